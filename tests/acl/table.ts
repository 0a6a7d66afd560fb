// ACL files and the bridges each allows, for ours and for qemu-bridge-helper (where we deliberately differ).

/** The bridges every case is asked about; all three exist in the test namespace. */
export const BRIDGES = ["br0", "br1", "br-abcdefghijkl"] as const; // the last is 15 bytes, the longest allowed
export type Bridge = (typeof BRIDGES)[number];

export interface AclCase {
  name: string;
  /** bridge.conf; `@DIR@` stands for the absolute folder holding `files`. */
  main: string | Uint8Array;
  /** Other files, by name inside `@DIR@` (a name ending in `/` is a folder). */
  files?: Record<string, string>;
  /** What our helper allows. */
  allows: Bridge[];
  /** What qemu-bridge-helper allows, when we deliberately differ (always a superset: we are stricter). */
  originalAllows?: Bridge[];
}

const long = "br-abcdefghijkl";

export const ACL_CASES: AclCase[] = [
  { name: "empty file", main: "", allows: [] },
  { name: "one allow", main: "allow br0\n", allows: ["br0"] },
  { name: "no final newline", main: "allow br1", allows: ["br1"] },
  { name: "allow all", main: "allow all\n", allows: ["br0", "br1", long] },
  { name: "deny all before allow", main: "deny all\nallow br0\n", allows: [] },
  { name: "deny after allow still wins", main: "allow br0\ndeny br0\nallow br1\n", allows: ["br1"] },
  { name: "allow all with one deny", main: "allow all\ndeny br1\n", allows: ["br0", long] },
  { name: "allow all then deny all", main: "allow all\ndeny all\n", allows: [] },
  { name: "deny only", main: "deny br0\n", allows: [] },
  { name: "comments", main: "# allow br1\nallow br0\n#deny br0\n", allows: ["br0"] },
  { name: "indented comment and rule", main: "   # note\n\tallow br1\n", allows: ["br1"] },
  { name: "tab separates command", main: "allow\tbr0\n", allows: ["br0"] },
  { name: "tab then space: command ends at the space", main: "allow\t br0\n", allows: [] },
  { name: "several spaces before the name", main: "allow     br0\n", allows: ["br0"] },
  { name: "trailing blanks", main: "allow br0 \t  \n", allows: ["br0"] },
  { name: "CRLF line ends", main: "allow br0\r\nallow br1\r\n", allows: ["br0", "br1"] },
  { name: "form feed and CR are blanks", main: "\f\rallow br0\f\r\n", allows: ["br0"] },
  { name: "a leading vertical tab is part of the command", main: "\vallow br0\nallow br1\n", allows: [] },
  { name: "a trailing vertical tab is part of the name", main: "allow br0\v\nallow br1\n", allows: ["br1"] },
  { name: "blank and white-space lines", main: "\n\n   \n\t\nallow br0\n\n", allows: ["br0"] },
  { name: "command without argument", main: "allow br0\nallow\n", allows: [] },
  { name: "command with empty argument", main: "allow \nallow br1\n", allows: ["br1"] },
  { name: "unknown command", main: "allow br0\npermit br1\n", allows: [] },
  { name: "commands are case-sensitive", main: "ALLOW br0\n", allows: [] },
  { name: "names are case-sensitive", main: "allow BR0\nallow ALL\n", allows: [] },
  { name: "a trailing comment is part of the name", main: "allow br0 #x\n", allows: [] },
  { name: "a long trailing comment makes the name too long", main: "allow br1\nallow br0 # the lab bridge\n", allows: [] },
  { name: "15-byte name", main: `allow ${long}\n`, allows: [long] },
  { name: "16-byte name is an error", main: "allow br0\nallow br-abcdefghijklm\n", allows: [] },
  { name: "16-byte name in a deny is an error too", main: "allow all\ndeny br-abcdefghijklm\n", allows: [] },
  { name: "NUL ends the line", main: Buffer.from("allow br0\0 and more\nallow br1\n", "latin1"), allows: ["br0", "br1"] },
  { name: "a line longer than 4095 bytes continues as a new line", main: `#${"x".repeat(5000)}\nallow br0\n`, allows: [] },
  { name: "4095 leading blanks", main: `${" ".repeat(5000)}allow br0\n`, allows: ["br0"] },
  { name: "include adds rules", main: "include @DIR@/a.conf\n", files: { "a.conf": "allow br0\n" }, allows: ["br0"] },
  {
    name: "an include path that is not ASCII is opened by its bytes",
    main: "allow all\ninclude @DIR@/gr\u00fcppe.conf\n",
    files: { "gr\u00fcppe.conf": "deny br1\n" },
    allows: ["br0", long],
  },
  {
    name: "deny from an include wins",
    main: "allow all\ninclude @DIR@/d.conf\n",
    files: { "d.conf": "deny br1\n" },
    allows: ["br0", long],
  },
  {
    name: "nested includes",
    main: "include @DIR@/a.conf\n",
    files: { "a.conf": "include @DIR@/b.conf\nallow br0\n", "b.conf": "allow br1\n" },
    allows: ["br0", "br1"],
  },
  { name: "missing include is skipped", main: "include @DIR@/missing.conf\nallow br0\n", allows: ["br0"] },
  { name: "include of a folder is empty", main: "include @DIR@/sub\nallow br1\n", files: { "sub/": "" }, allows: ["br1"] },
  {
    name: "include loop is followed once",
    main: "include @DIR@/loop.conf\nallow br0\n",
    files: { "loop.conf": "include @DIR@/loop.conf\nallow br1\n" },
    allows: ["br0", "br1"],
  },
  {
    name: "mutual include loop",
    main: "include @DIR@/a.conf\n",
    files: { "a.conf": "include @DIR@/b.conf\nallow br0\n", "b.conf": "include @DIR@/a.conf\ndeny br1\nallow br1\n" },
    allows: ["br0"],
  },
  {
    name: "include path longer than a bridge name",
    main: "include @DIR@/a-rather-long-file-name.conf\n",
    files: { "a-rather-long-file-name.conf": "allow br1\n" },
    allows: ["br1"],
  },
  // Deliberate differences, each stricter than the original:
  {
    name: "bad line in an include refuses everything",
    main: "include @DIR@/bad.conf\nallow br1\n",
    files: { "bad.conf": "allow br0\nbogus\ndeny br0\n" },
    allows: [],
    originalAllows: ["br0", "br1"],
  },
  { name: "relative include refuses everything", main: "include rel.conf\nallow br0\n", allows: [], originalAllows: ["br0"] },
  { name: "empty include refuses everything", main: "include \nallow br0\n", allows: [], originalAllows: ["br0"] },
  {
    name: "includes nested 10 deep refuse everything",
    main: "include @DIR@/n1.conf\n",
    files: Object.fromEntries(
      Array.from({ length: 10 }, (_, i) => [`n${i + 1}.conf`, i < 9 ? `include @DIR@/n${i + 2}.conf\n` : "allow br0\n"]),
    ),
    allows: [],
    originalAllows: ["br0"],
  },
];
