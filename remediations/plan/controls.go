package plan

import (
	"fmt"
	"strings"

	"github.com/bucketguard/bucketguard/remediations/acl"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// The other controls: default encryption, Object Ownership, versioning,
// server access logging and the account's Block Public Access.

func (pl *planner) encryption() {
	cfg, f := pl.in.Config, pl.p.Encryption
	want := posture.Encryption{Algorithm: "AES256"}
	if cfg.Encryption == config.SSEKMS {
		want = posture.Encryption{Algorithm: "aws:kms", KMSKeyID: cfg.KMSKeyARN, BucketKey: cfg.BucketKey}
	}
	var problem string
	switch f.State {
	case posture.Failed:
		pl.unreadable("encryption", "default encryption", errFact(f))
		return
	case posture.Absent:
		problem = "the bucket has no default encryption"
	case posture.Set:
		problem = weaker(f.Value, cfg)
		want.BlockedTypes = f.Value.BlockedTypes // never drop an SSE-C block
	default:
		return
	}
	if problem == "" {
		return
	}
	pl.find(Finding{ID: EncryptionWeaker, Severity: Medium, Setting: "encryption", Summary: problem})
	pl.act(&Step{Op: op.PutBucketEncryption, Encryption: &want}, Action{Name: RestoreDefaultEncryption, Setting: "encryption",
		Why: "restore the configured default encryption", Before: DescribeEncryptionFact(f), After: DescribeEncryption(want)})
}

// weaker says how the bucket's default encryption falls short of the
// configured one, or "". SSE-S3 < SSE-KMS < DSSE-KMS; with SSE-KMS
// configured, the configured key is required, since an attacker's own key is
// no protection.
func weaker(e posture.Encryption, cfg config.Config) string {
	known := map[string]int{"AES256": 1, "aws:kms": 2, "aws:kms:dsse": 3}
	lvl, ok := known[e.Algorithm]
	if !ok {
		return "" // not a value S3 lets us reason about; leave it alone
	}
	if cfg.Encryption == config.SSES3 {
		return ""
	}
	if lvl < 2 {
		return fmt.Sprintf("default encryption is %s, weaker than the configured SSE-KMS", e.Algorithm)
	}
	if !SameKey(e.KMSKeyID, cfg.KMSKeyARN) {
		key := e.KMSKeyID
		if key == "" {
			key = "the AWS managed key aws/s3"
		}
		return fmt.Sprintf("default encryption uses %s, not the configured KMS key", key)
	}
	return ""
}

// SameKey compares a bucket's KMSMasterKeyID, which may be a key id or ARN,
// with the configured key ARN.
func SameKey(have, wantARN string) bool {
	if have == "" {
		return false
	}
	return have == wantARN || strings.HasSuffix(wantARN, ":key/"+have)
}

func (pl *planner) ownership() {
	if !pl.in.Config.EnforceOwnership {
		return
	}
	f := pl.p.Ownership
	switch f.State {
	case posture.Failed:
		pl.unreadable("ownership", "Object Ownership", f)
		return
	case posture.Set:
		if f.Value == posture.BucketOwnerEnforced {
			return
		}
	}
	cur := posture.ObjectWriter // a bucket with no ownership controls behaves as ObjectWriter
	if f.State == posture.Set {
		cur = f.Value
	}
	pl.find(Finding{ID: OwnershipNotEnforced, Severity: Low, Setting: "ownership",
		Summary: fmt.Sprintf("Object Ownership is %s: ACLs still grant access", cur)})
	a := Action{Name: EnforceBucketOwner, Setting: "ownership", Why: "set Object Ownership to BucketOwnerEnforced (ACLs off)",
		Before: cur, After: posture.BucketOwnerEnforced}
	switch {
	case pl.aclAfter == nil:
		a.Skipped = "the ACL could not be read; S3 refuses BucketOwnerEnforced while the ACL grants access outside the account"
	case !acl.OnlyOwner(*pl.aclAfter):
		a.Skipped = "the ACL still grants access to others (for example the LogDelivery group); S3 refuses BucketOwnerEnforced until those grants move to the bucket policy"
	}
	if a.Skipped == "" && pl.aclFiltered() && !pl.aclPlanned() {
		// With IgnorePublicAcls in force, GetBucketAcl shows only the grants S3
		// enforces; public grants may still be stored, and S3 refuses
		// BucketOwnerEnforced while they are. Writing the ACL back as read
		// drops exactly those hidden grants and nothing else.
		shown := *pl.aclAfter
		pl.act(&Step{Op: op.PutBucketAcl, ACL: &shown}, Action{Name: RemovePublicACLGrants, Setting: "acl",
			Why:    "write the ACL back as S3 enforces it, dropping any public grant IgnorePublicAcls hides, so that BucketOwnerEnforced is accepted",
			Before: "(as read, filtered by IgnorePublicAcls) " + DescribeACL(shown), After: DescribeACL(shown)})
	}
	pl.act(&Step{Op: op.PutBucketOwnershipControls, Ownership: posture.BucketOwnerEnforced}, a)
}

func (pl *planner) versioning() {
	if !pl.in.Config.EnforceVersioning {
		return
	}
	f := pl.p.Versioning
	switch {
	case f.State == posture.Failed:
		pl.unreadable("versioning", "versioning", f)
		return
	case f.State == posture.Set && f.Value == "Enabled":
		return
	}
	cur := "never enabled"
	if f.State == posture.Set {
		cur = f.Value
	}
	pl.find(Finding{ID: VersioningOff, Severity: Low, Setting: "versioning", Summary: "versioning is " + strings.ToLower(cur)})
	pl.act(&Step{Op: op.PutBucketVersioning, Versioning: "Enabled"}, Action{Name: EnableVersioning, Setting: "versioning",
		Why: "turn versioning on", Before: cur, After: "Enabled"})
}

func (pl *planner) logging() {
	cfg := pl.in.Config
	if cfg.AccessLogBucket == "" {
		return
	}
	f := pl.p.Logging
	switch f.State {
	case posture.Failed:
		pl.unreadable("logging", "server access logging", errFact(f))
		return
	case posture.Set:
		return // logging somewhere already: the owner's choice
	}
	want := posture.Logging{TargetBucket: cfg.AccessLogBucket, TargetPrefix: cfg.AccessLogPrefix + pl.p.Bucket + "/"}
	pl.find(Finding{ID: AccessLoggingOff, Severity: Low, Setting: "logging", Summary: "server access logging is off"})
	a := Action{Name: EnableAccessLogging, Setting: "logging", Why: "send server access logs to " + cfg.AccessLogBucket,
		Before: "off", After: fmt.Sprintf("s3://%s/%s", want.TargetBucket, want.TargetPrefix)}
	if pl.p.Bucket == cfg.AccessLogBucket {
		a.Skipped = "this is the log bucket itself; logging it into itself would log its own log writes"
	}
	pl.act(&Step{Op: op.PutBucketLogging, Logging: &want}, a)
}

// accountBPA checks the account's Block Public Access. For an account-level
// event it is the whole evaluation; for a bucket it matters only when the
// account control is on.
func (pl *planner) accountBPA(accountEvent bool) {
	cfg, f := pl.in.Config, pl.p.AccountBPA
	if !cfg.EnforceAccountBPA && !accountEvent {
		return
	}
	var cur posture.BPA
	switch f.State {
	case posture.Set:
		cur = f.Value
	case posture.Absent:
	case posture.Failed:
		pl.unreadable("account-bpa", "account Block Public Access", errFact(f))
		if !cfg.EnforceAccountBPA {
			return
		}
	default:
		return
	}
	if f.Known() && cur.Covers(posture.AllOn) {
		return
	}
	if f.Known() {
		pl.find(Finding{ID: AccountBPAOff, Severity: Medium, Setting: "account-bpa", Summary: "the account's Block Public Access " + bpaState(f, posture.AllOn)})
	}
	a := Action{Name: BlockAccountPublicAccess, Setting: "account-bpa", Why: "turn on all four account-level Block Public Access settings",
		Before: DescribeBPAFact(f), After: DescribeBPA(posture.AllOn)}
	if !cfg.EnforceAccountBPA {
		a.Skipped = "the account-level control is off (" + config.EnvEnforceAccountBPA + "=false): reported only"
	}
	on := posture.AllOn
	pl.act(&Step{Op: op.PutAccountPublicAccessBlock, BPA: &on}, a)
}
