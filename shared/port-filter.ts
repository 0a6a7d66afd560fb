// Classic BPF programs (struct sock_filter, <linux/filter.h>) that check what a guest's port sends and receives (pure).
//
// They run as tc `bpf` classifiers in direct-action mode on the TAP's clsact qdisc (shared/port-guard.ts): the
// value returned is the verdict, TC_ACT_OK (0) to let the frame go on, TC_ACT_SHOT (2) to drop it. A
// classic program that loads past the end of a frame stops with 0, which would let the frame go on:
// every load here is preceded by a length check that drops shorter frames.
import type { AddressPrefix } from "../policy/address-prefix.ts";

// <linux/bpf_common.h>, <linux/filter.h>
const BPF_LD = 0x00;
const BPF_LDX = 0x01;
const BPF_ALU = 0x04;
const BPF_JMP = 0x05;
const BPF_RET = 0x06;
const BPF_MISC = 0x07;
const BPF_W = 0x00;
const BPF_H = 0x08;
const BPF_B = 0x10;
const BPF_ABS = 0x20;
const BPF_IND = 0x40;
const BPF_LEN = 0x80;
const BPF_MSH = 0xa0;
const BPF_SUB = 0x10;
const BPF_AND = 0x50;
const BPF_JA = 0x00;
const BPF_JEQ = 0x10;
const BPF_JGE = 0x30;
const BPF_JSET = 0x40;
const BPF_K = 0x00;
const BPF_X = 0x08;
const BPF_TAX = 0x00;
const BPF_TXA = 0x80;
/** Ancillary load of "the frame had an 802.1Q tag" (SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT). */
const SKF_AD_VLAN_TAG_PRESENT = (-0x1000 + 48) >>> 0;
/** struct sock_filter: u16 code, u8 jt, u8 jf, u32 k. */
export const SOCK_FILTER_SIZE = 8;
/** The verdicts of a direct-action classifier (<linux/pkt_cls.h>). */
export const TC_ACT_OK = 0;
export const TC_ACT_SHOT = 2;

// EtherTypes and protocol numbers the programs read (<linux/if_ether.h>, <linux/in.h>, <linux/icmpv6.h>).
const ETH_P_IP = 0x0800;
const ETH_P_ARP = 0x0806;
const ETH_P_IPV6 = 0x86dd;
const IPPROTO_HOPOPTS = 0;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_FRAGMENT = 44;
const IPPROTO_ICMPV6 = 58;
const DHCP_SERVER_PORT = 67;
const ROUTER_ADVERTISEMENT = 134;
const NEIGHBOUR_ADVERTISEMENT = 136;
const REDIRECT = 137;
/** MLD query, report, done and MLDv2 report: sent behind a hop-by-hop header, also from `::`. */
const MLD_TYPES = [130, 131, 132, 143];

type Target = string | number;
interface Instruction {
  code: number;
  jt: Target;
  jf: Target;
  k: number | string;
}

/** A program under construction: jumps name labels or count instructions to skip; assemble() resolves them. */
class Assembler {
  readonly #code: Instruction[] = [];
  readonly #labels = new Map<string, number>();

  #op(code: number, k: number | string = 0, jt: Target = 0, jf: Target = 0): this {
    this.#code.push({ code, jt, jf, k });
    return this;
  }

  label(name: string): this {
    this.#labels.set(name, this.#code.length);
    return this;
  }

  /** A = the 32-bit, 16-bit or 8-bit value at `offset` of the frame. */
  ld(offset: number, size: 4 | 2 | 1 = 4): this {
    return this.#op(BPF_LD | (size === 4 ? BPF_W : size === 2 ? BPF_H : BPF_B) | BPF_ABS, offset);
  }

  ldVlanPresent(): this {
    return this.#op(BPF_LD | BPF_W | BPF_ABS, SKF_AD_VLAN_TAG_PRESENT);
  }

  /** A = the frame's length. */
  ldLen(): this {
    return this.#op(BPF_LD | BPF_W | BPF_LEN);
  }

  /** X = 4 * (frame[offset] & 0xf): an IPv4 header's length. */
  ldxHeaderLength(offset: number): this {
    return this.#op(BPF_LDX | BPF_B | BPF_MSH, offset);
  }

  /** A = the 16-bit value at X + offset. */
  ldhIndirect(offset: number): this {
    return this.#op(BPF_LD | BPF_H | BPF_IND, offset);
  }

  tax(): this {
    return this.#op(BPF_MISC | BPF_TAX);
  }

  txa(): this {
    return this.#op(BPF_MISC | BPF_TXA);
  }

  and(mask: number): this {
    return this.#op(BPF_ALU | BPF_AND | BPF_K, mask);
  }

  subX(): this {
    return this.#op(BPF_ALU | BPF_SUB | BPF_X);
  }

  jeq(value: number, jt: Target, jf: Target): this {
    return this.#op(BPF_JMP | BPF_JEQ | BPF_K, value, jt, jf);
  }

  jeqX(jt: Target, jf: Target): this {
    return this.#op(BPF_JMP | BPF_JEQ | BPF_X, 0, jt, jf);
  }

  jge(value: number, jt: Target, jf: Target): this {
    return this.#op(BPF_JMP | BPF_JGE | BPF_K, value, jt, jf);
  }

  jset(bits: number, jt: Target, jf: Target): this {
    return this.#op(BPF_JMP | BPF_JSET | BPF_K, bits, jt, jf);
  }

  ja(label: string): this {
    return this.#op(BPF_JMP | BPF_JA, label);
  }

  ret(verdict: number): this {
    return this.#op(BPF_RET | BPF_K, verdict);
  }

  /** Drops the frame unless its length is at least `bytes`. */
  atLeast(bytes: number): this {
    return this.ldLen().jge(bytes, 1, 0).ret(TC_ACT_SHOT);
  }

  #offset(from: number, target: Target, limit: number): number {
    const to = typeof target === "number" ? from + 1 + target : this.#labels.get(target);
    if (to === undefined) throw new Error(`BPF label ${String(target)} is not defined`);
    const offset = to - from - 1;
    if (offset < 0 || offset > limit || to > this.#code.length) throw new Error(`BPF jump from ${from} to ${to} out of range`);
    return offset;
  }

  /** The program as struct sock_filter[] in host (little-endian) byte order. throws Error on an unresolved or too long jump. */
  assemble(): Uint8Array {
    const bytes = new Uint8Array(this.#code.length * SOCK_FILTER_SIZE);
    const view = new DataView(bytes.buffer);
    this.#code.forEach((op, index) => {
      const at = index * SOCK_FILTER_SIZE;
      const isJump = (op.code & 0x07) === BPF_JMP;
      const always = isJump && (op.code & 0xf0) === BPF_JA;
      view.setUint16(at, op.code, true);
      view.setUint8(at + 2, isJump && !always ? this.#offset(index, op.jt, 255) : 0);
      view.setUint8(at + 3, isJump && !always ? this.#offset(index, op.jf, 255) : 0);
      view.setUint32(at + 4, always ? this.#offset(index, op.k, 0xffff) : (op.k as number), true);
    });
    return bytes;
  }
}

/** With the IPv4 address to test in X: lets the frame go when it lies in one of `prefixes`. */
function passIfInIpv4(program: Assembler, prefixes: readonly AddressPrefix[]): void {
  for (const prefix of prefixes) {
    program
      .txa()
      .and(prefix.masks[0] ?? 0)
      .jeq(prefix.words[0] ?? 0, 0, 1)
      .ret(TC_ACT_OK);
  }
}

/** Jumps to `onMatch` when the IPv6 address at `offset` lies in one of `prefixes`. */
function jumpIfInIpv6(program: Assembler, offset: number, prefixes: readonly AddressPrefix[], onMatch: string, tag: string): void {
  prefixes.forEach((prefix, index) => {
    const next = `${tag}-${index + 1}`;
    prefix.masks.forEach((mask, word) => {
      if (mask !== 0)
        program
          .ld(offset + 4 * word)
          .and(mask)
          .jeq(prefix.words[word] ?? 0, 0, next);
    });
    program.ja(onMatch).label(next);
  });
}

/** Jumps to `onMatch` when the IPv6 address at `offset` is link-local (fe80::/10). */
function jumpIfLinkLocal(program: Assembler, offset: number, onMatch: string): void {
  program.ld(offset).and(0xffc00000).jeq(0xfe800000, 0, 1).ja(onMatch);
}

/**
 * The program for frames a guest sends under `ip=`: IPv4, ARP and IPv6 only, untagged; an IPv4 source
 * in `prefixes`, or 0.0.0.0 to a DHCP server's port; ARP whose sender is the frame's source MAC and
 * whose sender address is in `prefixes` (or 0.0.0.0, an RFC 5227 probe); an IPv6 source in `prefixes`,
 * link-local or unspecified, neighbour advertisements only for those targets, no router advertisement
 * or redirect, and no payload but TCP, UDP, ICMPv6, fragments of TCP or UDP, and MLD behind a
 * hop-by-hop header.
 */
export function guestIngressProgram(prefixes: readonly AddressPrefix[]): Uint8Array {
  const v4 = prefixes.filter((prefix) => prefix.family === 4);
  const v6 = prefixes.filter((prefix) => prefix.family === 6);
  const p = new Assembler();
  // A tagged frame carries addresses behind the tag: this program reads untagged frames only.
  p.ldVlanPresent().jeq(0, 1, 0).ret(TC_ACT_SHOT);
  p.ld(12, 2).jeq(ETH_P_IP, 0, 1).ja("ipv4").jeq(ETH_P_ARP, 0, 1).ja("arp").jeq(ETH_P_IPV6, 0, 1).ja("ipv6").ret(TC_ACT_SHOT);

  p.label("ipv4").atLeast(34).ld(26).tax();
  passIfInIpv4(p, v4);
  // From 0.0.0.0 only a DHCP client's DISCOVER and REQUEST: UDP to port 67.
  p.txa().jeq(0, 1, 0).ret(TC_ACT_SHOT);
  p.ld(23, 1).jeq(IPPROTO_UDP, 1, 0).ret(TC_ACT_SHOT);
  // A header shorter than 20 bytes would put the "port" inside the IPv4 header itself.
  p.ldxHeaderLength(14).txa().jge(20, 1, 0).ret(TC_ACT_SHOT);
  p.ldLen().subX().jge(18, 1, 0).ret(TC_ACT_SHOT);
  p.ldhIndirect(16).jeq(DHCP_SERVER_PORT, 0, 1).ret(TC_ACT_OK).ret(TC_ACT_SHOT);

  // ARP for Ethernet and IPv4; the sender hardware address is the frame's source.
  p.label("arp").atLeast(42);
  p.ld(14).jeq(0x00010800, 1, 0).ret(TC_ACT_SHOT);
  p.ld(18, 2).jeq(0x0604, 1, 0).ret(TC_ACT_SHOT);
  p.ld(6).tax().ld(22).jeqX(1, 0).ret(TC_ACT_SHOT);
  p.ld(10, 2).tax().ld(26, 2).jeqX(1, 0).ret(TC_ACT_SHOT);
  p.ld(28).tax().jeq(0, 0, 1).ret(TC_ACT_OK);
  passIfInIpv4(p, v4);
  p.ret(TC_ACT_SHOT);

  p.label("ipv6").atLeast(54);
  jumpIfLinkLocal(p, 22, "payload");
  jumpIfInIpv6(p, 22, v6, "payload", "src");
  for (let word = 0; word < 4; word += 1)
    p.ld(22 + 4 * word)
      .jeq(0, 1, 0)
      .ret(TC_ACT_SHOT);
  p.label("payload").ld(20, 1).jeq(IPPROTO_ICMPV6, 0, 1).ja("icmpv6").jeq(IPPROTO_HOPOPTS, 0, 1).ja("mld");
  // Behind a fragment header (8 bytes), TCP or UDP only: an ICMPv6 message there (an atomic fragment
  // of one, RFC 6946, is delivered whole) would pass none of the checks below.
  p.jeq(IPPROTO_FRAGMENT, 0, "transport").atLeast(55).ld(54, 1);
  p.label("transport").jeq(IPPROTO_TCP, 1, 0).jeq(IPPROTO_UDP, 0, 1).ret(TC_ACT_OK).ret(TC_ACT_SHOT);

  // A hop-by-hop header of 8 bytes and then MLD: what a host sends to join its multicast groups.
  p.label("mld").atLeast(63).ld(54, 1).jeq(IPPROTO_ICMPV6, 1, 0).ret(TC_ACT_SHOT);
  p.ld(55, 1).jeq(0, 1, 0).ret(TC_ACT_SHOT).ld(62, 1);
  MLD_TYPES.forEach((type, index) => {
    p.jeq(type, MLD_TYPES.length - index, 0);
  });
  p.ret(TC_ACT_SHOT).ret(TC_ACT_OK);

  p.label("icmpv6").atLeast(55).ld(54, 1);
  p.jeq(ROUTER_ADVERTISEMENT, 0, 1).ret(TC_ACT_SHOT).jeq(REDIRECT, 0, 1).ret(TC_ACT_SHOT);
  p.jeq(NEIGHBOUR_ADVERTISEMENT, 1, 0).ret(TC_ACT_OK);
  p.atLeast(78);
  jumpIfLinkLocal(p, 62, "own-target");
  jumpIfInIpv6(p, 62, v6, "own-target", "target");
  p.ret(TC_ACT_SHOT).label("own-target").ret(TC_ACT_OK);
  return p.assemble();
}

/**
 * The program for frames the bridge sends to a `locked` guest: group addresses (broadcast, multicast)
 * and frames for `mac` only. The TAP's holder can change the TAP's own address (SIOCSIFHWADDR on its
 * fd needs no privilege), and the bridge then sends it the frames for that address: this keeps them out.
 */
export function guestEgressProgram(mac: Uint8Array): Uint8Array {
  const view = new DataView(mac.buffer, mac.byteOffset, 6);
  const p = new Assembler();
  p.atLeast(14);
  p.ld(0, 1).jset(1, 0, 1).ret(TC_ACT_OK);
  p.ld(0).jeq(view.getUint32(0), 0, 3).ld(4, 2).jeq(view.getUint16(4), 0, 1).ret(TC_ACT_OK);
  p.ret(TC_ACT_SHOT);
  return p.assemble();
}
