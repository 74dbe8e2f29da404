package plan

import (
	"fmt"
	"sort"
	"strings"

	"github.com/bucketguard/bucketguard/remediations/acl"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// Descriptions of settings, for the alert's before and after.

// bpaState says how a Block Public Access configuration falls short of want.
func bpaState(f posture.Fact[posture.BPA], want posture.BPA) string {
	if f.State != posture.Set {
		return "is not configured"
	}
	return "has " + strings.Join(f.Value.Off(want), ", ") + " off"
}

func DescribeBPA(b posture.BPA) string {
	return fmt.Sprintf("BlockPublicAcls=%v IgnorePublicAcls=%v BlockPublicPolicy=%v RestrictPublicBuckets=%v",
		b.BlockPublicAcls, b.IgnorePublicAcls, b.BlockPublicPolicy, b.RestrictPublicBuckets)
}

// ParseBPA reads back what DescribeBPAFact wrote for a known setting.
func ParseBPA(s string) (posture.BPA, bool) {
	if s == "(not configured: all four off)" {
		return posture.BPA{}, true
	}
	var b posture.BPA
	n, err := fmt.Sscanf(s, "BlockPublicAcls=%t IgnorePublicAcls=%t BlockPublicPolicy=%t RestrictPublicBuckets=%t",
		&b.BlockPublicAcls, &b.IgnorePublicAcls, &b.BlockPublicPolicy, &b.RestrictPublicBuckets)
	return b, err == nil && n == 4 && DescribeBPA(b) == s
}

func DescribeBPAFact(f posture.Fact[posture.BPA]) string {
	switch f.State {
	case posture.Set:
		return DescribeBPA(f.Value)
	case posture.Absent:
		return "(not configured: all four off)"
	}
	return "(unknown)"
}

func DescribeEncryption(e posture.Encryption) string {
	s := e.Algorithm
	if e.KMSKeyID != "" {
		s += " key " + e.KMSKeyID
	}
	if e.Algorithm != "AES256" {
		s += fmt.Sprintf(" bucket-key=%v", e.BucketKey)
	}
	if len(e.BlockedTypes) > 0 {
		s += " blocked=" + strings.Join(e.BlockedTypes, ",")
	}
	return s
}

func DescribeEncryptionFact(f posture.Fact[posture.Encryption]) string {
	if f.State == posture.Absent {
		return "(none)"
	}
	return DescribeEncryption(f.Value)
}

func DescribeACL(a acl.ACL) string {
	var parts []string
	for _, g := range a.Grants {
		who := g.Grantee.ID
		switch {
		case g.Grantee.URI != "":
			who = g.Grantee.URI[strings.LastIndex(g.Grantee.URI, "/")+1:]
		case g.Grantee.EmailAddress != "":
			who = g.Grantee.EmailAddress
		case who == a.Owner.ID && who != "":
			who = "owner"
		}
		parts = append(parts, who+":"+g.Permission)
	}
	sort.Strings(parts)
	if len(parts) == 0 {
		return "(no grants)"
	}
	return strings.Join(parts, " ")
}
