/**
 * Throwaway certificates made with openssl for registry tests: a CA, a server certificate for
 * 127.0.0.1 (subjectAltName IP:127.0.0.1) signed by it, and a self-signed key pair for signing
 * registry tokens. Everything is EC P-256, valid one day, written under the given directory.
 */

export interface ServerPki {
  /** CA certificate (PEM) and its path. */
  ca: string;
  caPath: string;
  /** Server certificate and key paths, and their PEM. */
  certPath: string;
  keyPath: string;
  cert: string;
  key: string;
}

export interface SigningPki {
  certPath: string;
  /** PKCS#8 private key PEM and the certificate PEM. */
  key: string;
  cert: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const out = await new Deno.Command("openssl", {
    args,
    cwd,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

/** `<name>.key` and a self-signed `<name>.crt` valid for a day, in dir. */
function selfSigned(
  dir: string,
  o: { name: string; subject: string; extensions?: readonly string[] },
): Promise<void> {
  return openssl([
    ...["req", "-x509", ...EC, "-keyout", `${o.name}.key`, "-out", `${o.name}.crt`],
    ...["-days", "1", "-subj", o.subject],
    ...(o.extensions ?? []).flatMap((e) => ["-addext", e]),
  ], dir);
}

/** A CA named `name` and a 127.0.0.1 server certificate it signed, under dir/name/. */
export async function makeServerPki(dir: string, name: string): Promise<ServerPki> {
  const d = `${dir}/${name}`;
  await Deno.mkdir(d, { recursive: true });
  await selfSigned(d, {
    name: "ca",
    subject: `/CN=crio-deno test CA ${name}`,
    extensions: ["basicConstraints=critical,CA:TRUE", "keyUsage=critical,keyCertSign,cRLSign"],
  });
  await openssl([
    ...["req", ...EC, "-keyout", "server.key", "-out", "server.csr"],
    "-subj",
    "/CN=127.0.0.1",
  ], d);
  await Deno.writeTextFile(
    `${d}/ext.cnf`,
    "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n" +
      "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
  );
  await openssl([
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.crt",
    "-days",
    "1",
    "-extfile",
    "ext.cnf",
  ], d);
  const read = (f: string) => Deno.readTextFile(`${d}/${f}`);
  return {
    ca: await read("ca.crt"),
    caPath: `${d}/ca.crt`,
    certPath: `${d}/server.crt`,
    keyPath: `${d}/server.key`,
    cert: await read("server.crt"),
    key: await read("server.key"),
  };
}

/** A self-signed certificate whose key signs registry tokens (the registry's rootcertbundle). */
export async function makeSigningPki(dir: string): Promise<SigningPki> {
  const d = `${dir}/token-signer`;
  await Deno.mkdir(d, { recursive: true });
  await selfSigned(d, { name: "signer", subject: "/CN=crio-deno test token signer" });
  return {
    certPath: `${d}/signer.crt`,
    key: await Deno.readTextFile(`${d}/signer.key`),
    cert: await Deno.readTextFile(`${d}/signer.crt`),
  };
}

/** The DER bytes inside the first PEM block of the given label. */
export function pemBody(pem: string, label: string): Uint8Array<ArrayBuffer> {
  const m = new RegExp(`-----BEGIN ${label}-----([\\s\\S]+?)-----END ${label}-----`).exec(pem);
  if (!m) throw new Error(`no ${label} PEM block`);
  return Uint8Array.from(atob(m[1].replace(/\s+/g, "")), (c) => c.charCodeAt(0));
}
