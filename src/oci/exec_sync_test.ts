import { assertEquals } from "../testing/asserts.ts";
import { FakeHost } from "../testing/fake_oci_host.ts";
import { killTree } from "./exec_sync.ts";

/**
 * conmon (10) → sh (11), in a container whose init is 1. sh forks a background child (12) right
 * after its children were first listed, before any signal reaches it; SIGKILL hands a dead
 * process's children to the container's init, SIGSTOP stops a process from forking.
 */
function forkingTree(): FakeHost {
  const h = new FakeHost();
  h.procs.set(1, { state: "running", ppid: 0 });
  h.procs.set(10, { state: "running", ppid: 0 });
  h.procs.set(11, { state: "running", ppid: 10 });
  const stopped = new Set<number>();
  let forked = false;
  const list = h.children.bind(h);
  h.children = async (pid) => {
    const kids = await list(pid);
    if (pid === 11 && !forked && !stopped.has(11)) {
      forked = true;
      h.procs.set(12, { state: "running", ppid: 11 });
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

Deno.test("killTree() kills a child forked while the tree was being listed", async () => {
  const h = forkingTree();
  await killTree(h, 10);
  assertEquals([...h.procs.keys()], [1], "only the container's init is left");
  const stops = h.signals.filter(([, s]) => s === "SIGSTOP").map(([p]) => p);
  assertEquals(stops, [10, 11, 12], "stopped pass by pass, the late child in the last");
});
