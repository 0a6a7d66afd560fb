// Runs shared/netlink.ts inside a test's network namespace (`ip netns exec NS bun this ...`) and prints the result as JSON.
import { addAltName, describeLink, devicesNamed, setBridgePortIsolated, setLinkAlias } from "../../shared/netlink.ts";
import { listBridgePorts } from "../../shared/netlink-launcher.ts";
import { SysError } from "../../shared/errors.ts";

const [operation = "", index = "0", text = ""] = process.argv.slice(2);
try {
  if (operation === "ports") {
    console.log(JSON.stringify(listBridgePorts(Number(index))));
  } else if (operation === "link") console.log(JSON.stringify(describeLink(Number(index))));
  else if (operation === "alias") console.log(JSON.stringify(setLinkAlias(Number(index), text) ?? null));
  else if (operation === "altname") console.log(JSON.stringify(addAltName(Number(index), text) ?? null));
  else if (operation === "named") console.log(JSON.stringify(devicesNamed(text.split(","))));
  else if (operation === "isolate") console.log(JSON.stringify(setBridgePortIsolated(Number(index)) ?? null));
  else throw new Error(`unknown operation ${operation}`);
} catch (err) {
  if (!(err instanceof SysError)) throw err;
  console.log(JSON.stringify({ error: err.code, message: err.message }));
}
