// A network device's attribute from /sys, read only when /sys shows this network namespace.
import { readFileSync } from "node:fs";

/** The device as netlink reports it in the caller's namespace: what the one in /sys must match. */
export interface DeviceIdentity {
  name: string;
  ifindex: number | null;
  address: string | null;
}

/**
 * `attribute` of the device `device.name` (/sys/class/net/NAME/ATTRIBUTE), or null when /sys shows
 * another network namespace, where that name is missing or another device. /sys shows the namespace
 * of whoever mounted it (`ip netns exec` mounts one for its namespace; `unshare -n` alone does not),
 * so the value counts only when the device there has the ifindex and address netlink reports.
 * throws the read's error for anything but a missing file (ENOENT).
 */
export function deviceAttribute(device: DeviceIdentity, attribute: string): string | null {
  const read = (file: string): string | null => {
    try {
      return readFileSync(`/sys/class/net/${device.name}/${file}`, "latin1").trim();
    } catch (err) {
      if ((err as { code?: unknown }).code === "ENOENT") return null;
      throw err;
    }
  };
  if (read("ifindex") !== String(device.ifindex) || read("address") !== device.address) return null;
  return read(attribute);
}
