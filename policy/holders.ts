// Whose ports are on a bridge: the numbered places a user's ports hold there under a policy, as names the kernel keeps unique (pure).
// Why places, as alternative names: docs/design.md, "Shared hosts: why the policy works as it does".

/** The places of each user on each bridge: no MAX is larger, as a bridge takes at most 1024 ports (BR_MAX_PORTS). */
export const MOST_PLACES = 1024;

/** The names of `uid`'s places 0 to `count`-1 on the bridge `bridgeIndex`, in order: what a count looks up. */
export function placeNames(uid: number, bridgeIndex: number, count: number): string[] {
  return Array.from({ length: count }, (_, place) => placeName(uid, bridgeIndex, place));
}

/** The place `place` of `uid` on the bridge with index `bridgeIndex`. At 19 characters or more it is longer than any device name (IFNAMSIZ). */
export function placeName(uid: number, bridgeIndex: number, place: number): string {
  return `tbh-uid${uid}-br${bridgeIndex}-place${place}`;
}

const PLACE_NAME = /^tbh-uid([0-9]{1,10})-br([0-9]{1,10})-place([0-9]{1,4})$/;

/** What a place name says, or null when `name` is none. */
export function parsePlaceName(name: string): { uid: number; bridgeIndex: number; place: number } | null {
  const match = PLACE_NAME.exec(name);
  if (match === null) return null;
  return { uid: Number(match[1]), bridgeIndex: Number(match[2]), place: Number(match[3]) };
}

/** The devices of `links` holding a place of `uid` on the bridge `bridgeIndex`, by place: what doctor counts. */
export function placesHeld<Link extends { altNames: readonly string[] }>(links: readonly Link[], uid: number, bridgeIndex: number) {
  const held: { link: Link; place: number }[] = [];
  for (const link of links) {
    for (const place of link.altNames.map(parsePlaceName)) {
      if (place?.uid === uid && place.bridgeIndex === bridgeIndex) held.push({ link, place: place.place });
    }
  }
  return held.sort((a, b) => a.place - b.place);
}
