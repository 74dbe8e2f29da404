package plan

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

// The findings.
const (
	PublicPolicyStatement    FindingID = "policy-public-statement"
	PublicACLGrant           FindingID = "acl-public-grant"
	AWSJudgesPolicyPublic    FindingID = "aws-judges-policy-public"
	PolicyUnparseable        FindingID = "policy-unparseable"
	TLSNotRequired           FindingID = "tls-not-required"
	BPAOff                   FindingID = "bpa-off"
	BPAUnreadable            FindingID = "bpa-unreadable"
	AccountBPAOff            FindingID = "account-bpa-off"
	EncryptionWeaker         FindingID = "encryption-weaker"
	EncryptionOwnKey         FindingID = "encryption-own-key"
	EncryptionForeignKey     FindingID = "encryption-foreign-key"
	EncryptionKeyNotAccepted FindingID = "encryption-key-not-accepted"
	OwnershipNotEnforced     FindingID = "ownership-not-enforced"
	VersioningOff            FindingID = "versioning-off"
	AccessLoggingOff         FindingID = "access-logging-off"
	TagsUnreadable           FindingID = "tags-unreadable"
	ApprovalGranted          FindingID = "approval-granted"
	ApprovalChanged          FindingID = "approval-changed"
	ApprovalRemoved          FindingID = "approval-removed"
	ApprovedSurface          FindingID = "approved-public-surface"
	ApprovalExpired          FindingID = "approval-expired"
	ApprovalInvalid          FindingID = "approval-invalid"
	BucketGone               FindingID = "bucket-gone"
	WebsiteNotApproved       FindingID = "website-not-approved"
	ConcurrentChange         FindingID = "concurrent-change"
	WebsiteBlockedByTLS      FindingID = "website-blocked-by-tls"

	DeniesBucketguard FindingID = "denies-bucketguard"
	// DelegatesToForeignAccessPoints: the bucket policy delegates to another
	// account's access points.
	DelegatesToForeignAccessPoints FindingID = "delegates-to-foreign-access-points"
	PublicAccessPointStatement     FindingID = "access-point-public-statement"
	AWSJudgesAccessPointPublic     FindingID = "aws-judges-access-point-public"
	AccessPointGone                FindingID = "access-point-gone"
)

// Unreadable is the finding of a setting whose read failed: it is not
// judged, and nothing is written on a guess.
func Unreadable(setting string) FindingID { return FindingID(setting + "-unreadable") }

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
