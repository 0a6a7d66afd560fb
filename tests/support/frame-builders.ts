// Ethernet frames built byte by byte for the port-filter tests: the guest's, the router's and the broadcast MAC, IPv4 (with its header checksum), UDP and IPv6.

export const GUEST = [0x52, 0x54, 0, 0, 0, 0x0a];
export const OTHER = [0x52, 0x54, 0, 0, 0, 0x0b];
export const ROUTER = [0x02, 0, 0, 0, 0, 0xfe];
export const BROADCAST = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
export const v4 = (text: string): number[] => text.split(".").map(Number);
/** An IPv6 address from its eight groups (no `::`: every group spelt out). */
export const v6 = (text: string): number[] =>
  text.split(":").flatMap((group) => [Number.parseInt(group, 16) >> 8, Number.parseInt(group, 16) & 0xff]);
export const ether = (type: number, payload: number[], source = GUEST, destination = ROUTER): number[] => [
  ...destination,
  ...source,
  type >> 8,
  type & 0xff,
  ...payload,
];
/** An IPv4 packet with a valid header checksum: the bridge's netfilter hook drops one without. */
export const ipv4 = (source: string, protocol: number, payload: number[], destination = "10.9.0.254"): number[] => {
  const length = 20 + payload.length;
  const header = [0x45, 0, length >> 8, length & 0xff, 0, 0, 0, 0, 64, protocol, 0, 0, ...v4(source), ...v4(destination)];
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += ((header[i] ?? 0) << 8) | (header[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  header[10] = (~sum >> 8) & 0xff;
  header[11] = ~sum & 0xff;
  return [...header, ...payload];
};
export const udp = (sourcePort: number, destinationPort: number): number[] => [0, sourcePort, 0, destinationPort, 0, 12, 0, 0, 1, 2, 3, 4];
export const ipv6 = (source: number[], nextHeader: number, payload: number[]): number[] => [
  0x60,
  0,
  0,
  0,
  payload.length >> 8,
  payload.length & 0xff,
  nextHeader,
  255,
  ...source,
  ...v6("ff02:0:0:0:0:0:0:1"),
  ...payload,
];
