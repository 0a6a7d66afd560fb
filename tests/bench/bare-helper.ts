// The least a bridge helper built on shared/ can do: qemu-bridge-helper's kernel steps and nothing else, as a baseline.
// `bare-helper --br=BRIDGE --fd=N` (other arguments are ignored): a TAP made with the virtio-net header, given the
// bridge's MTU and an `fe:` MAC, made its port, brought up, its fd sent on fd N. No ACL, no credential or --fd
// check, no re-read, no audit, no cleanup on failure: a benchmark's floor (tests/bench/scale.ts), never a helper.
import { sendFds } from "../../shared/fdpass.ts";
import { InterfaceControl } from "../../shared/netdev.ts";
import { attachNewTap, newTapFlags, openTunDevice } from "../../shared/tap.ts";

// A loop, not Array#find, whose first use would add ~0.1 ms to the floor (docs/benchmarks.md, "First uses").
let bridge = "";
let socketFd = -1;
for (const arg of process.argv) {
  if (arg.startsWith("--br=")) bridge = arg.slice("--br=".length);
  else if (arg.startsWith("--fd=")) socketFd = Number(arg.slice("--fd=".length));
}
const tunFd = openTunDevice();
const tap = attachNewTap(tunFd, "tap%d", newTapFlags(true, false));
const control = new InterfaceControl();
control.setMtu(tap, control.mtu(bridge));
const { family, mac } = control.hardwareAddress(tap);
mac[0] = 0xfe;
control.setHardwareAddress(tap, family, mac);
control.addToBridge(bridge, tap);
control.bringUp(tap);
sendFds(socketFd, [tunFd], 5000);
