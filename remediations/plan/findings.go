package plan

import (
	"fmt"
	"slices"
)

// Severity ranks findings and results.
type Severity string

// Severities, worst first.
const (
	Critical Severity = "critical" // public write
	High     Severity = "high"     // public read, or a posture that cannot be judged
	Medium   Severity = "medium"   // a guard rail is down: BPA, encryption, TLS
	Low      Severity = "low"      // an optional control is off
	Info     Severity = "info"     // worth knowing: an approval was used or granted
)

var rank = map[Severity]int{Critical: 5, High: 4, Medium: 3, Low: 2, Info: 1, "": 0}

// Worse reports whether s ranks above o.
func (s Severity) Worse(o Severity) bool { return rank[s] > rank[o] }

// FindingID names a kind of finding. The alert's headline, the scan table
// and the docs use these names; nothing matches a finding by its text.
type FindingID string

// The findings: a closed list (FindingIDs), each made in one place of this
// package, the only package that makes findings.
const (
	PublicPolicyStatement FindingID = "policy-public-statement"
	PublicACLGrant        FindingID = "acl-public-grant"
	AWSJudgesPolicyPublic FindingID = "aws-judges-policy-public"
	PolicyUnparseable     FindingID = "policy-unparseable"
	PolicyUnreadable      FindingID = "policy-unreadable"
	// AWSJudgesFixPublic: AWS's own check judges a policy bucketguard is
	// about to write public, where bucketguard's judge does not.
	AWSJudgesFixPublic       FindingID = "aws-judges-fix-public"
	ACLUnreadable            FindingID = "acl-unreadable"
	TLSNotRequired           FindingID = "tls-not-required"
	BPAOff                   FindingID = "bpa-off"
	BPAUnreadable            FindingID = "bpa-unreadable"
	AccountBPAOff            FindingID = "account-bpa-off"
	AccountBPAUnreadable     FindingID = "account-bpa-unreadable"
	EncryptionWeaker         FindingID = "encryption-weaker"
	EncryptionOwnKey         FindingID = "encryption-own-key"
	EncryptionForeignKey     FindingID = "encryption-foreign-key"
	EncryptionKeyNotAccepted FindingID = "encryption-key-not-accepted"
	EncryptionUnreadable     FindingID = "encryption-unreadable"
	OwnershipNotEnforced     FindingID = "ownership-not-enforced"
	OwnershipUnreadable      FindingID = "ownership-unreadable"
	VersioningOff            FindingID = "versioning-off"
	VersioningUnreadable     FindingID = "versioning-unreadable"
	AccessLoggingOff         FindingID = "access-logging-off"
	AccessLoggingUnreadable  FindingID = "logging-unreadable"
	TagsUnreadable           FindingID = "tags-unreadable"
	ApprovalGranted          FindingID = "approval-granted"
	ApprovalChanged          FindingID = "approval-changed"
	ApprovalRemoved          FindingID = "approval-removed"
	ApprovedSurface          FindingID = "approved-public-surface"
	ApprovalExpired          FindingID = "approval-expired"
	ApprovalInvalid          FindingID = "approval-invalid"
	BucketGone               FindingID = "bucket-gone"
	WebsiteNotApproved       FindingID = "website-not-approved"
	WebsiteBlockedByTLS      FindingID = "website-blocked-by-tls"
	// ConcurrentChange: a setting changed between the read and the write;
	// the fix was planned again from what is there now.
	ConcurrentChange FindingID = "concurrent-change"
	// ConcurrentChangeNotWritten: a setting kept changing, and was left
	// unwritten.
	ConcurrentChangeNotWritten FindingID = "concurrent-change-not-written"

	DeniesBucketguard FindingID = "denies-bucketguard"
	// DelegatesToForeignAccessPoints: the bucket policy delegates to another
	// account's access points.
	DelegatesToForeignAccessPoints FindingID = "delegates-to-foreign-access-points"
	PublicAccessPointStatement     FindingID = "access-point-public-statement"
	AWSJudgesAccessPointPublic     FindingID = "aws-judges-access-point-public"
	// AccessPointPolicyUnparseable: an access point's policy is not a
	// policy bucketguard can read.
	AccessPointPolicyUnparseable FindingID = "access-point-policy-unparseable"
	// AccessPointPolicyUnreadable: an access point's policy could not be
	// read.
	AccessPointPolicyUnreadable FindingID = "access-point-policy-unreadable"
	// AccessPointsUnlisted: the bucket's access points could not be listed.
	AccessPointsUnlisted FindingID = "access-points-unlisted"
	// AccessPointsCapped: the bucket has more access points than are
	// judged.
	AccessPointsCapped FindingID = "access-points-capped"
	// AccessPointUnresolved: the bucket behind an access point named by an
	// event could not be found.
	AccessPointUnresolved FindingID = "access-point-unresolved"
)

// FindingIDs is every finding bucketguard makes.
func FindingIDs() []FindingID {
	return []FindingID{PublicPolicyStatement, PublicACLGrant, AWSJudgesPolicyPublic, AWSJudgesFixPublic, PolicyUnparseable, PolicyUnreadable,
		ACLUnreadable, TLSNotRequired, BPAOff, BPAUnreadable, AccountBPAOff, AccountBPAUnreadable, EncryptionWeaker,
		EncryptionOwnKey, EncryptionForeignKey, EncryptionKeyNotAccepted, EncryptionUnreadable, OwnershipNotEnforced,
		OwnershipUnreadable, VersioningOff, VersioningUnreadable, AccessLoggingOff, AccessLoggingUnreadable, TagsUnreadable,
		ApprovalGranted, ApprovalChanged, ApprovalRemoved, ApprovedSurface, ApprovalExpired, ApprovalInvalid, BucketGone,
		WebsiteNotApproved, WebsiteBlockedByTLS, ConcurrentChange, ConcurrentChangeNotWritten, DeniesBucketguard,
		DelegatesToForeignAccessPoints, PublicAccessPointStatement, AWSJudgesAccessPointPublic, AccessPointPolicyUnparseable,
		AccessPointPolicyUnreadable, AccessPointsUnlisted, AccessPointsCapped, AccessPointUnresolved}
}

// Finding is one thing wrong (or worth knowing) about a target.
type Finding struct {
	ID        FindingID `json:"id"`
	Severity  Severity  `json:"severity"`
	Setting   string    `json:"setting"`
	Summary   string    `json:"summary"`
	Statement *int      `json:"statement,omitempty"`
	Grant     *int      `json:"grant,omitempty"`
	// AccessPoint names the access point the finding is about, if any.
	AccessPoint string `json:"access_point,omitempty"`
}

// publicSeverity ranks public access: write is critical, read high.
func publicSeverity(write bool) Severity {
	if write {
		return Critical
	}
	return High
}

// Worst is the worst severity among the findings.
func Worst(fs []Finding) Severity {
	var s Severity
	for _, f := range fs {
		if f.Severity.Worse(s) {
			s = f.Severity
		}
	}
	return s
}

// AccessPointUnresolvedFinding is the finding of an access point, named by
// an event, whose bucket could not be found: nothing was judged.
func AccessPointUnresolvedFinding(name, why string) Finding {
	return Finding{ID: AccessPointUnresolved, Severity: High, Setting: "access-point", AccessPoint: name,
		Summary: fmt.Sprintf("could not find the bucket of access point %s (%s); it was not judged", name, why)}
}

// BucketGoneFinding is the finding of a bucket that no longer exists.
func BucketGoneFinding() Finding {
	return Finding{ID: BucketGone, Severity: Info, Setting: "bucket",
		Summary: "the bucket no longer exists (NoSuchBucket): nothing is left to fix"}
}

// MostSevere keeps the n most severe findings, in their order; among
// findings of one severity the first are kept. What is cut when a message
// or a journal must be shortened is always the least important.
func MostSevere(fs []Finding, n int) []Finding {
	if n >= len(fs) {
		return fs
	}
	if n <= 0 {
		return []Finding{}
	}
	idx := make([]int, len(fs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return rank[fs[b].Severity] - rank[fs[a].Severity] })
	keep := idx[:n]
	slices.Sort(keep)
	out := make([]Finding, n)
	for i, k := range keep {
		out[i] = fs[k]
	}
	return out
}
