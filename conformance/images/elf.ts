/**
 * Two tiny static linux/amd64 programs, hand-assembled, for images whose
 * behaviour no busybox applet or script can give:
 *
 * - `pause`: the sandbox's PID 1. A shell would do, but the real pause is a
 *   bare binary that exits 0 on SIGTERM/SIGINT and never leaves zombies; with
 *   SIGCHLD set to SIG_IGN the kernel reaps orphans reparented to it.
 * - `nnp`: reports its effective uid. It is installed setuid root, so its output
 *   tells whether no_new_privs stopped the exec from gaining root. Scripts
 *   ignore the setuid bit, hence machine code.
 *
 * Both are position-independent (rip-relative), so any load address works.
 */

const BASE = 0x400000;
const EHDR = 64;
const PHDR = 56;

/** Wraps code in an ELF64 executable with one read+execute PT_LOAD covering the whole file. */
export function staticElf(code: Uint8Array): Uint8Array<ArrayBuffer> {
  const file = new Uint8Array(EHDR + PHDR + code.length);
  const view = new DataView(file.buffer);
  file.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]); // magic, 64-bit, little-endian, SysV
  view.setUint16(16, 2, true); // ET_EXEC
  view.setUint16(18, 62, true); // EM_X86_64
  view.setUint32(20, 1, true);
  view.setBigUint64(24, BigInt(BASE + EHDR + PHDR), true); // entry: first code byte
  view.setBigUint64(32, BigInt(EHDR), true); // program headers right after this header
  view.setUint16(52, EHDR, true);
  view.setUint16(54, PHDR, true);
  view.setUint16(56, 1, true);
  const ph = EHDR;
  view.setUint32(ph, 1, true); // PT_LOAD
  view.setUint32(ph + 4, 5, true); // PF_R | PF_X
  view.setBigUint64(ph + 16, BigInt(BASE), true);
  view.setBigUint64(ph + 24, BigInt(BASE), true);
  view.setBigUint64(ph + 32, BigInt(file.length), true);
  view.setBigUint64(ph + 40, BigInt(file.length), true);
  view.setBigUint64(ph + 48, 0x1000n, true);
  file.set(code, EHDR + PHDR);
  return file;
}

function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  return Uint8Array.from(clean.match(/../g) ?? [], (h) => parseInt(h, 16));
}

// pause (intel syntax):
//   push 0; push 0; push 0; push 1          ; sigaction{SIG_IGN, 0, 0, 0}
//   mov eax,13; mov edi,17; mov rsi,rsp; xor edx,edx; mov r10d,8; syscall   ; SIGCHLD
//   lea rax,[rip+on_signal]
//   push 0; push rax; push 0x04000000; push rax   ; {on_signal, SA_RESTORER, on_signal, 0}
//   mov eax,13; mov edi,15; ...; syscall           ; SIGTERM
//   mov eax,13; mov edi,2;  ...; syscall           ; SIGINT
// 1: mov eax,34; syscall; jmp 1b                 ; pause() forever
// on_signal: xor edi,edi; mov eax,231; syscall   ; exit_group(0)
const PAUSE_CODE = hex(`
  6a006a006a006a01 b80d000000 bf11000000 4889e6 31d2 41ba08000000 0f05
  488d0540000000 6a00 50 6800000004 50
  b80d000000 bf0f000000 4889e6 31d2 41ba08000000 0f05
  b80d000000 bf02000000 4889e6 31d2 41ba08000000 0f05
  b822000000 0f05 ebf7
  31ff b8e7000000 0f05
`);

// nnp (intel syntax): writes "Effective uid: <geteuid()>\n" in one write(2)
// so the container log gets it as a single line.
//   mov eax,107; syscall                  ; geteuid
//   lea rdi,[rsp-1]; mov byte [rdi],10    ; build the text downwards in the red zone
//   mov ecx,10
// 1: xor edx,edx; div ecx; add dl,'0'; dec rdi; mov [rdi],dl; test eax,eax; jnz 1b
//   sub rdi,15; mov r8,rdi; lea rsi,[rip+prefix]; mov ecx,15; rep movsb
//   mov rsi,r8; mov rdx,rsp; sub rdx,rsi; mov edi,1; mov eax,1; syscall
//   xor edi,edi; mov eax,231; syscall
// prefix: "Effective uid: "
const NNP_CODE = hex(`
  b86b000000 0f05 488d7c24ff c6070a b90a000000
  31d2 f7f1 80c230 48ffcf 8817 85c0 75f0
  4883ef0f 4989f8 488d3525000000 b90f000000 f3a4
  4c89c6 4889e2 4829f2 bf01000000 b801000000 0f05
  31ff b8e7000000 0f05
  456666656374697665207569643a20
`);

export function pauseBinary(): Uint8Array<ArrayBuffer> {
  return staticElf(PAUSE_CODE);
}

export function nnpBinary(): Uint8Array<ArrayBuffer> {
  return staticElf(NNP_CODE);
}
