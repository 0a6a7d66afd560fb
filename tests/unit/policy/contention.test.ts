// The count of a request racing others of the same user (policy/holders.ts contendedCount): exact, and never two waiting on each other.
import { describe, expect, test } from "bun:test";
import { contendedCount, type MarkedPort } from "../../../policy/holders.ts";

const finished = (index: number): MarkedPort => ({ index, name: `tap${index}`, inMaking: false });
const making = (index: number): MarkedPort => ({ index, name: `tap${index}`, inMaking: true });

describe("a request making port 10", () => {
  test("with room for every other marked port, finished or in making, it counts them all and goes on", () => {
    expect(contendedCount([finished(3), making(12), making(10)], 10, 3)).toEqual({ held: ["tap3", "tap12"] });
    expect(contendedCount([finished(3), making(4), making(10)], 10, null)).toEqual({ held: ["tap3", "tap4"] });
  });

  test("with as many finished ports as the limit, it is refused, naming only those", () => {
    expect(contendedCount([finished(3), finished(5), making(4), making(10)], 10, 2)).toEqual({ held: ["tap3", "tap5"] });
    expect(contendedCount([making(10)], 10, 0)).toEqual({ held: [] });
  });

  test("when ports still in making decide it: a lower index in making makes it step aside, only higher ones make it wait", () => {
    expect(contendedCount([finished(3), making(4), making(10)], 10, 2)).toBe("step aside");
    expect(contendedCount([finished(3), making(11), making(10)], 10, 2)).toBe("wait");
    // The other side of each pair: the lowest in making never steps aside, so the two cannot wait on each other.
    expect(contendedCount([finished(3), making(4), making(10)], 4, 2)).toBe("wait");
  });
});
