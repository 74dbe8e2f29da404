package policy

import (
	"fmt"
	"math/big"
	"net/netip"
	"slices"
	"strings"
)

// tooWide says why a set of aws:SourceIp values, each narrow enough for AWS's
// rule (no broader than /8 for IPv4, /32 for IPv6, RFC 1918 private), is
// public to bucketguard: together, the public IPv4 values cover more
// addresses than a /8 does (256 /8 blocks cover the whole internet while
// each passes the rule), or the IPv6 values more than a /32. "" when they do
// not.
func tooWide(values []string) string {
	var v4, v6 []netip.Prefix
	for _, v := range values {
		p, ok := prefixOf(v)
		if !ok {
			continue
		}
		if p.Addr().Is4() {
			if !private(p) {
				v4 = append(v4, p)
			}
			continue
		}
		v6 = append(v6, p)
	}
	if n := coverage(v4, 32); n.Cmp(big.NewInt(1<<24)) > 0 {
		return fmt.Sprintf("its aws:SourceIp values together cover %s public IPv4 addresses, more than a /8 (%s)", n, summary(v4))
	}
	if n := coverage(v6, 128); n.Cmp(new(big.Int).Lsh(big.NewInt(1), 96)) > 0 {
		return fmt.Sprintf("its aws:SourceIp values together cover more IPv6 addresses than a /32 (%s)", summary(v6))
	}
	return ""
}

// prefixOf reads a CIDR or a bare address, unmapping IPv4-in-IPv6.
func prefixOf(v string) (netip.Prefix, bool) {
	v = strings.TrimSpace(v)
	if strings.Contains(v, "/") {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return netip.Prefix{}, false
		}
		p = p.Masked()
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		return p, true
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true
}

func private(p netip.Prefix) bool {
	for _, r := range rfc1918 {
		if r.Bits() <= p.Bits() && r.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

// coverage counts the addresses the prefixes cover, overlaps once: two
// prefixes either nest or are disjoint, so the nested ones are dropped.
func coverage(ps []netip.Prefix, bits int) *big.Int {
	slices.SortFunc(ps, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
	total := new(big.Int)
	var last netip.Prefix
	for _, p := range ps {
		if last.IsValid() && last.Bits() <= p.Bits() && last.Contains(p.Addr()) {
			continue
		}
		total.Add(total, new(big.Int).Lsh(big.NewInt(1), uint(bits-p.Bits())))
		last = p
	}
	return total
}

func summary(ps []netip.Prefix) string {
	if len(ps) <= 3 {
		out := make([]string, len(ps))
		for i, p := range ps {
			out[i] = p.String()
		}
		return strings.Join(out, ", ")
	}
	return fmt.Sprintf("%s, %s, ... %d values", ps[0], ps[1], len(ps))
}
