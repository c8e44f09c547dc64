import { assert, assertEquals } from "../testing/asserts.ts";
import { FakeHost } from "../testing/fake_oci_host.ts";
import { endMonitor, killUnder, MONITOR_REAP_GRACE_MS } from "./exec_sync.ts";

/**
 * conmon (10) → sh (11) → 12, in a container whose init is 1. `forker` forks a child (13) right
 * after its own children were listed, unless it is stopped; SIGKILL hands a dead process's
 * children to the container's init, SIGSTOP stops a process from forking.
 */
function forkingTree(forker: number): FakeHost {
  const h = new FakeHost();
  h.procs.set(1, { state: "running", ppid: 0 });
  h.procs.set(10, { state: "running", ppid: 0 });
  h.procs.set(11, { state: "running", ppid: 10 });
  h.procs.set(12, { state: "running", ppid: 11 });
  const stopped = new Set<number>();
  let forked = false;
  const list = h.children.bind(h);
  h.children = async (pid) => {
    const kids = await list(pid);
    if (pid === forker && !forked && !stopped.has(forker)) {
      forked = true;
      h.procs.set(13, { state: "running", ppid: forker });
    }
    return kids;
  };
  h.onKill = (pid, signal) => {
    if (!h.procs.has(pid)) return false;
    if (signal === "SIGSTOP") stopped.add(pid);
    if (signal === "SIGKILL") {
      h.procs.delete(pid);
      for (const [k, p] of h.procs) if (p.ppid === pid) h.procs.set(k, { ...p, ppid: 1 });
    }
    return true;
  };
  return h;
}

const sent = (h: FakeHost, signal: string) =>
  h.signals.filter(([, s]) => s === signal).map(([p]) => p);

Deno.test("killUnder() kills a child forked while the tree was being listed", async () => {
  const h = forkingTree(12);
  await killUnder(h, 10);
  assertEquals([...h.procs.keys()], [1, 10], "only init and conmon are left");
  assertEquals(sent(h, "SIGSTOP"), [11, 12, 13], "stopped pass by pass, the late child last");
});

Deno.test("killUnder() leaves the subreaping conmon running", async () => {
  const h = forkingTree(11);
  await killUnder(h, 10);
  assertEquals([...h.procs.keys()], [1, 10]);
  assert(!h.signals.some(([p]) => p === 10), "conmon is neither stopped nor killed");
  assertEquals(sent(h, "SIGKILL").sort(), [11, 12, 13]);
});

Deno.test("endMonitor() waits for a monitor that reaps and exits, kills one that does not", async () => {
  const h = new FakeHost();
  const signals: string[] = [];
  const sleep = h.sleep.bind(h);
  h.sleep = () => new Promise(() => {});
  // Returning at all shows that a monitor already gone costs no grace.
  await endMonitor(h, { status: Promise.resolve({ code: 137 }), kill: () => {} });

  h.sleep = sleep;
  let exit!: (v: { code: number }) => void;
  const t0 = h.now();
  await endMonitor(h, {
    status: new Promise<{ code: number }>((r) => exit = r),
    kill: (s: Deno.Signal) => (signals.push(s), exit({ code: 137 })),
  });
  assertEquals(h.now() - t0, MONITOR_REAP_GRACE_MS);
  assertEquals(signals, ["SIGKILL"]);
});
