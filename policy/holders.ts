// Whose ports are on a bridge: the numbered places a user's ports hold there under a policy, as names the kernel keeps unique (pure).
// Why places, as alternative names: docs/design.md, "Shared hosts: why the policy works as it does".

/** The places of each user on each bridge: no MAX is larger, as a bridge takes at most 1024 ports (BR_MAX_PORTS). */
export const MOST_PLACES = 1024;

/** The names of `uid`'s places 0 to `count`-1 on the bridge `bridgeIndex`, in order: what a count looks up. */
export function placeNames(uid: number, bridgeIndex: number, count: number): string[] {
  return Array.from({ length: count }, (_, place) => placeName(uid, bridgeIndex, place));
}

/** The place `place` of `uid` on the bridge `bridgeIndex`: at 19 characters or more, longer than any device name (IFNAMSIZ). */
export function placeName(uid: number, bridgeIndex: number, place: number): string {
  return `tbh-uid${uid}-br${bridgeIndex}-place${place}`;
}

const PLACE_NAME = /^tbh-uid([0-9]{1,10})-br([0-9]{1,10})-place([0-9]{1,4})$/;

/** The devices of `links` holding a place of `uid` on the bridge `bridgeIndex`, by place: what doctor counts. */
export function placesHeld<Link extends { altNames: readonly string[] }>(links: readonly Link[], uid: number, bridgeIndex: number) {
  const held: { link: Link; place: number }[] = [];
  for (const link of links) {
    for (const match of link.altNames.map((name) => PLACE_NAME.exec(name))) {
      if (match !== null && Number(match[1]) === uid && Number(match[2]) === bridgeIndex) held.push({ link, place: Number(match[3]) });
    }
  }
  return held.sort((a, b) => a.place - b.place);
}
