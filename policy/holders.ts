// Whose ports are on a bridge: the numbered places a user's ports hold there under a policy, as names the kernel keeps unique (pure).
//
// A limit of MAX on a bridge is MAX places, numbered 0 to MAX-1. Each port made under a policy line
// with a limit takes one, as an alternative name of its device (IFLA_ALT_IFNAME), before it joins the
// bridge. The kernel refuses a name already taken (EEXIST), also between two requests at the same
// moment, so no more than MAX are ever held and no count of the bridge's ports is needed: a request
// costs the same on a bridge of 0 or 1000 ports. Only CAP_NET_ADMIN adds or removes an alternative
// name, so a port's holder cannot give its place away; the kernel frees it with the device.

/**
 * The places each user has on each bridge: a Linux bridge takes at most 1024 ports (BR_MAX_PORTS),
 * so no MAX is larger. A port made where no line limits its user takes one of these too, so that it
 * counts once a line does.
 */
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
  const [, uid = "", bridgeIndex = "", place = ""] = match;
  return { uid: Number(uid), bridgeIndex: Number(bridgeIndex), place: Number(place) };
}

/** A device as a count of places reads it: its name and its alternative names. */
export interface PlaceFacts {
  name: string;
  altNames: readonly string[];
}

/**
 * The devices of `links` holding a place of `uid` on the bridge `bridgeIndex`, with the place each
 * holds, by place: what doctor counts from a list of the bridge's ports.
 */
export function placesHeld<Link extends PlaceFacts>(
  links: readonly Link[],
  uid: number,
  bridgeIndex: number,
): { link: Link; place: number }[] {
  return links
    .flatMap((link) =>
      link.altNames.flatMap((altName) => {
        const place = parsePlaceName(altName);
        return place !== null && place.uid === uid && place.bridgeIndex === bridgeIndex ? [{ link, place: place.place }] : [];
      }),
    )
    .sort((a, b) => a.place - b.place);
}
