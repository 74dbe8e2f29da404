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
	var j encryptionJudgement
	switch f.State {
	case posture.Failed:
		pl.unreadable(EncryptionUnreadable, "encryption", "default encryption", errFact(f))
		return
	case posture.Absent:
		j = encryptionJudgement{problem: "the bucket has no default encryption", severity: Medium, replace: true}
	case posture.Set:
		j = judgeEncryption(f.Value, cfg, pl.p.Account)
		want.BlockedTypes = f.Value.BlockedTypes // never drop an SSE-C block
		if f.Value.Algorithm == "aws:kms:dsse" {
			// Never a weaker algorithm: a dual-layer bucket keeps dual
			// layers, with the configured key (DSSE-KMS has no Bucket Key).
			want.Algorithm, want.BucketKey = "aws:kms:dsse", false
		}
	default:
		return
	}
	if j.problem == "" {
		return
	}
	pl.find(Finding{ID: j.id(), Severity: j.severity, Setting: "encryption", Summary: j.problem})
	if !j.replace {
		return
	}
	pl.act(&Step{Op: op.PutBucketEncryption, Encryption: &want}, Action{Name: RestoreDefaultEncryption, Setting: "encryption",
		Why: "restore the configured default encryption", Before: DescribeEncryptionFact(f), After: DescribeEncryption(want)})
}

// Strength orders default encryption: none (0) < SSE-S3 (1) < SSE-KMS (2) <
// DSSE-KMS (3), two independent layers of AES-256. An algorithm S3 may
// add later is -1: bucketguard cannot reason about it and leaves it alone.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingDSSEncryption.html
func Strength(algorithm string) int {
	switch algorithm {
	case "":
		return 0
	case "AES256":
		return 1
	case "aws:kms":
		return 2
	case "aws:kms:dsse":
		return 3
	}
	return -1
}

// encryptionJudgement is what is wrong with a bucket's default encryption,
// and whether bucketguard replaces it.
type encryptionJudgement struct {
	problem  string
	severity Severity
	replace  bool
	// foreign marks a key of another account; notAccepted a key that is
	// neither configured nor accepted.
	foreign, notAccepted bool
}

func (j encryptionJudgement) id() FindingID {
	if j.foreign {
		return EncryptionForeignKey
	}
	if j.notAccepted {
		return EncryptionKeyNotAccepted
	}
	if !j.replace {
		return EncryptionOwnKey
	}
	return EncryptionWeaker
}

// judgeEncryption compares a bucket's default encryption with the
// configuration. It never asks for a weaker algorithm. With SSE-KMS
// configured, the key matters: the configured key and the accepted ones are
// right; the AWS managed key aws/s3 is replaced; a key of the bucket's own
// account is a team's choice, kept and reported (low) unless accepted keys
// are configured; a key of another account is high (whoever controls it can
// deny this account its data), replaced only when accepted keys are
// configured.
func judgeEncryption(e posture.Encryption, cfg config.Config, account string) encryptionJudgement {
	lvl := Strength(e.Algorithm)
	switch {
	case lvl < 0 || cfg.Encryption == config.SSES3:
		return encryptionJudgement{}
	case lvl < 2:
		return encryptionJudgement{problem: fmt.Sprintf("default encryption is %s, weaker than the configured SSE-KMS", e.Algorithm), severity: Medium, replace: true}
	case SameKey(e.KMSKeyID, cfg.KMSKeyARN):
		return encryptionJudgement{}
	}
	for _, k := range cfg.AcceptedKMSKeys {
		if SameKey(e.KMSKeyID, k) {
			return encryptionJudgement{}
		}
	}
	enforced := len(cfg.AcceptedKMSKeys) > 0
	alias := strings.Contains(e.KMSKeyID, "alias/")
	switch owner := keyAccount(e.KMSKeyID); {
	case e.KMSKeyID == "" || e.KMSKeyID == "alias/aws/s3" || strings.HasSuffix(e.KMSKeyID, ":alias/aws/s3"):
		return encryptionJudgement{problem: "default encryption uses the AWS managed key aws/s3, not the configured KMS key", severity: Medium, replace: true}
	case alias && (owner == "" || owner == account):
		// S3 keeps the key as it was given; an alias may name the
		// configured key or an accepted one, which only KMS can tell.
		return encryptionJudgement{severity: Low,
			problem: fmt.Sprintf("default encryption names KMS key alias %s; bucketguard cannot tell which key it is, so it is kept (list the alias ARN in %s to accept it)", e.KMSKeyID, config.EnvAcceptedKMSKeys)}
	case owner != "" && owner != account:
		j := encryptionJudgement{severity: High, replace: enforced, foreign: true,
			problem: fmt.Sprintf("default encryption uses KMS key %s of another account (%s): whoever controls that key can refuse this account its own data", e.KMSKeyID, owner)}
		if !enforced {
			j.problem += "; reported, not replaced (list the keys you accept in " + config.EnvAcceptedKMSKeys + " to have it replaced)"
		}
		return j
	case enforced:
		return encryptionJudgement{problem: fmt.Sprintf("default encryption uses KMS key %s, which is neither the configured key nor an accepted one", e.KMSKeyID), severity: Medium, replace: true, notAccepted: true}
	}
	return encryptionJudgement{severity: Low,
		problem: fmt.Sprintf("default encryption uses this account's own KMS key %s, not the configured one; kept, since replacing a team's key can break its applications (list it in %s to accept it, or list the accepted keys to have others replaced)", e.KMSKeyID, config.EnvAcceptedKMSKeys)}
}

// keyAccount is the account of a KMS key given as an ARN (key or alias), or
// "" for a bare key id or alias name, which S3 resolves in the bucket
// owner's account.
func keyAccount(key string) string {
	parts := strings.SplitN(key, ":", 6)
	if len(parts) == 6 && parts[0] == "arn" && parts[2] == "kms" {
		return parts[4]
	}
	return ""
}

// SameKey compares a bucket's KMSMasterKeyID, which may be a key id, a key
// ARN, an alias name or an alias ARN (S3 keeps it as given), with a
// configured or accepted key or alias ARN.
func SameKey(have, wantARN string) bool {
	if have == "" {
		return false
	}
	return have == wantARN || strings.HasSuffix(wantARN, ":key/"+have) || (strings.HasPrefix(have, "alias/") && strings.HasSuffix(wantARN, ":"+have))
}

func (pl *planner) ownership() {
	if !pl.in.Config.EnforceOwnership {
		return
	}
	f := pl.p.Ownership
	switch f.State {
	case posture.Failed:
		pl.unreadable(OwnershipUnreadable, "ownership", "Object Ownership", f)
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
		pl.unreadable(VersioningUnreadable, "versioning", "versioning", f)
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
		pl.unreadable(AccessLoggingUnreadable, "logging", "server access logging", errFact(f))
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
		pl.unreadable(AccountBPAUnreadable, "account-bpa", "account Block Public Access", errFact(f))
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
