package remediations_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/acl"
	"github.com/bucketguard/bucketguard/remediations/awserr"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/fake"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/plan"
	"github.com/bucketguard/bucketguard/remediations/policy"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

var (
	now     = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	quiet   = slog.New(slog.NewTextHandler(io.Discard, nil))
	bucketT = posture.Target{Account: fake.Account, Region: "eu-west-1", Bucket: "acme-data"}
)

const (
	crossAccount = `{"Sid":"CrossAccountRead","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::acme-data","arn:aws:s3:::acme-data/*"]}`
	publicRead   = `{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::acme-data/*"}`
	publicWrite  = `{"Sid":"PublicWrite","Effect":"Allow","Principal":{"AWS":"*"},"Action":["s3:PutObject","s3:DeleteObject"],"Resource":"arn:aws:s3:::acme-data/*"}`
)

func tlsStmt() string { return string(policy.DenyInsecureTransport("aws", "acme-data", policy.TLSSid)) }

func doc(stmts ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
}

// clean returns a bucket that needs nothing.
func clean() fake.Bucket {
	on := posture.AllOn
	return fake.Bucket{BPA: &on, Policy: doc(crossAccount, tlsStmt()), Encryption: &posture.Encryption{Algorithm: "AES256"},
		Ownership: posture.BucketOwnerPreferred, Tags: map[string]string{"owner": "data-team"}}
}

func engine(f *fake.Fake, mutate ...func(*config.Config)) *remediations.Engine {
	cfg := config.Default()
	for _, m := range mutate {
		m(&cfg)
	}
	return &remediations.Engine{S3: f.S3(), Control: f.Control(), Analyzer: f.Analyzer(), Config: cfg, Now: func() time.Time { return now }}
}

func eval(t *testing.T, e *remediations.Engine, target posture.Target, trig *events.Change) remediations.Result {
	t.Helper()
	res, err := e.Evaluate(context.Background(), target, trig, quiet)
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	return res
}

func outcomes(r remediations.Result) map[plan.ActionName]remediations.Outcome {
	m := map[plan.ActionName]remediations.Outcome{}
	for _, a := range r.Actions {
		m[a.Name] = a.Outcome
	}
	return m
}

// A clean bucket costs at most ten reads, all issued at once, and nothing else.
func TestCleanBucketCallBudget(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reads int
		cfg   func(*config.Config)
	}{
		// The bucket's eight settings (website included) and its access
		// point listing; the account's Block Public Access only when Object
		// Ownership is enforced (its own events and the sweep evaluate it
		// otherwise); versioning and logging each with its control.
		{"defaults", 9, func(*config.Config) {}},
		{"every optional control on", 12, func(c *config.Config) {
			c.EnforceVersioning, c.AccessLogBucket, c.EnforceOwnership, c.EnforceAccountBPA = true, "acme-logs", true, true
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := fake.New()
			b := clean()
			b.Versioning, b.Logging, b.Ownership = "Enabled", &posture.Logging{TargetBucket: "acme-logs", TargetPrefix: "acme-data/"}, posture.BucketOwnerEnforced
			f.Put("acme-data", b)
			on := posture.AllOn
			f.SetAccountBPA(&on)
			f.HoldReads(tc.reads) // each read waits until all are in flight at once
			res := eval(t, engine(f, tc.cfg), bucketT, nil)
			if f.HoldTimedOut() {
				t.Fatal("reads were not all in flight at once: the read round is not concurrent")
			}
			if res.Status != contract.Clean || len(res.Findings) != 0 {
				t.Fatalf("outcome %s, findings %+v", res.Status, res.Findings)
			}
			if got := f.Reads(); got != tc.reads {
				t.Errorf("reads = %d, want %d", got, tc.reads)
			}
			if f.Writes() != 0 || f.Count("sns:Publish") != 0 {
				t.Errorf("writes %d, publishes %d: want none", f.Writes(), f.Count("sns:Publish"))
			}
		})
	}
}

// One problem: one read round, the one write it needs, one read back.
func TestOneProblemCallBudget(t *testing.T) {
	f := fake.New()
	b := clean()
	b.BPA = nil // DeleteBucketPublicAccessBlock
	f.Put("acme-data", b)
	res := eval(t, engine(f), bucketT, nil)
	if res.Status != contract.Remediated {
		t.Fatalf("outcome %s: %+v", res.Status, res.Actions)
	}
	calls := f.Calls()
	if len(calls) != 9+1+1 {
		t.Fatalf("calls %v: want 9 reads, 1 write, 1 read-back", calls)
	}
	if calls[9].Op != "s3:PutPublicAccessBlock" || calls[10].Op != "s3:GetPublicAccessBlock" {
		t.Errorf("write and read-back = %v, %v", calls[9], calls[10])
	}
	got, _ := f.Bucket("acme-data")
	if *got.BPA != posture.AllOn {
		t.Errorf("BPA = %+v", got.BPA)
	}
}

func TestPublicPolicyKeepsCrossAccountStatementByteForByte(t *testing.T) {
	f := fake.New()
	b := clean()
	b.BPA = nil
	b.Policy = `{"Version":"2012-10-17","Statement":[` + "\n  " + crossAccount + ",\n  " + publicRead + "\n]}"
	f.Put("acme-data", b)
	res := eval(t, engine(f), bucketT, nil)
	got, _ := f.Bucket("acme-data")
	if !strings.Contains(got.Policy, crossAccount) {
		t.Fatalf("cross-account statement not kept byte for byte:\n%s", got.Policy)
	}
	if strings.Contains(got.Policy, "PublicRead") {
		t.Errorf("public statement still there:\n%s", got.Policy)
	}
	d, _ := policy.Parse([]byte(got.Policy))
	if !d.RequiresTLS("aws", "acme-data") || policy.Judge(d).Public {
		t.Errorf("fixed policy: TLS %v public %v", d.RequiresTLS("aws", "acme-data"), policy.Judge(d).Public)
	}
	want := map[plan.ActionName]remediations.Outcome{
		plan.RemovePublicPolicyStatements: remediations.Verified,
		plan.RequireTLS:                   remediations.Verified,
		plan.BlockPublicAccess:            remediations.Verified,
	}
	if o := outcomes(res); !mapsEqual(o, want) {
		t.Errorf("outcomes %v, want %v", o, want)
	}
	if f.Count("s3:PutBucketPolicy") != 1 {
		t.Errorf("policy written %d times; removing and adding TLS share one write", f.Count("s3:PutBucketPolicy"))
	}
	if res.Severity != plan.High {
		t.Errorf("severity %s", res.Severity)
	}
}

func mapsEqual[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestPublicACLKeepsOwnerLogDeliveryAndUsers(t *testing.T) {
	f := fake.New()
	b := clean()
	b.BPA = nil
	b.ACL = fake.PrivateACL()
	b.ACL.Grants = append(b.ACL.Grants,
		acl.Grant{Grantee: acl.Grantee{Type: acl.Group, URI: acl.AllUsers}, Permission: "READ"},
		acl.Grant{Grantee: acl.Grantee{Type: acl.Group, URI: acl.LogDelivery}, Permission: "WRITE"},
		acl.Grant{Grantee: acl.Grantee{Type: acl.Group, URI: acl.AuthenticatedUsers}, Permission: "WRITE_ACP"},
		acl.Grant{Grantee: acl.Grantee{Type: acl.CanonicalUser, ID: "be7e1c3f0a"}, Permission: "READ"})
	f.Put("acme-data", b)
	res := eval(t, engine(f), bucketT, nil)
	if res.Severity != plan.Critical {
		t.Errorf("severity %s, want critical (WRITE_ACP to AuthenticatedUsers)", res.Severity)
	}
	got, _ := f.Bucket("acme-data")
	if acl.Judge(got.ACL).Public || len(got.ACL.Grants) != 3 {
		t.Fatalf("ACL after: %+v", got.ACL)
	}
	if o := outcomes(res); o[plan.RemovePublicACLGrants] != remediations.Verified {
		t.Errorf("outcomes %v", o)
	}
	// The ACL went before Block Public Access: after IgnorePublicAcls, the
	// public grants would no longer be visible to remove.
	ops := opsOf(f.Calls())
	if slices.Index(ops, "s3:PutBucketAcl") > slices.Index(ops, "s3:PutPublicAccessBlock") {
		t.Errorf("ACL fixed after BPA: %v", ops)
	}
}

func opsOf(calls []fake.Call) []op.Operation {
	var ops []op.Operation
	for _, c := range calls {
		ops = append(ops, c.Op)
	}
	return ops
}

func TestEncryption(t *testing.T) {
	const key = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	const (
		ownKey      = "arn:aws:kms:eu-west-1:111122223333:key/5555eeee-12ab-34cd-56ef-1234567890ab"
		otherOwnKey = "arn:aws:kms:eu-west-1:111122223333:key/6666ffff-12ab-34cd-56ef-1234567890ab"
		foreignKey  = "arn:aws:kms:eu-west-1:999988887777:key/7777aaaa-12ab-34cd-56ef-1234567890ab"
	)
	kms := func(c *config.Config) { c.Encryption, c.KMSKeyARN, c.BucketKey = config.SSEKMS, key, true }
	accepting := func(c *config.Config) { kms(c); c.AcceptedKMSKeys = []string{ownKey} }
	tests := []struct {
		name  string
		have  *posture.Encryption
		cfg   func(*config.Config)
		want  *posture.Encryption // nil: unchanged
		finds bool
		id    plan.FindingID
	}{
		{"missing restored to SSE-S3", nil, func(*config.Config) {}, &posture.Encryption{Algorithm: "AES256"}, true, plan.EncryptionWeaker},
		{"SSE-KMS is stronger than configured SSE-S3", &posture.Encryption{Algorithm: "aws:kms"}, func(*config.Config) {}, nil, false, ""},
		{"SSE-S3 weaker than configured KMS", &posture.Encryption{Algorithm: "AES256", BlockedTypes: []string{"SSE-C"}}, kms,
			&posture.Encryption{Algorithm: "aws:kms", KMSKeyID: key, BucketKey: true, BlockedTypes: []string{"SSE-C"}}, true, plan.EncryptionWeaker},
		{"configured key by id", &posture.Encryption{Algorithm: "aws:kms", KMSKeyID: "1234abcd-12ab-34cd-56ef-1234567890ab"}, kms, nil, false, ""},
		{"DSSE with the configured key", &posture.Encryption{Algorithm: "aws:kms:dsse", KMSKeyID: key}, kms, nil, false, ""},
		// Never a weaker algorithm, and a team's own key is
		// not replaced unless accepted keys are configured.
		{"DSSE is stronger than configured SSE-S3", &posture.Encryption{Algorithm: "aws:kms:dsse", KMSKeyID: ownKey}, func(*config.Config) {}, nil, false, ""},
		{"DSSE with the AWS managed key keeps DSSE", &posture.Encryption{Algorithm: "aws:kms:dsse"}, kms,
			&posture.Encryption{Algorithm: "aws:kms:dsse", KMSKeyID: key}, true, plan.EncryptionWeaker},
		{"a team's own key is kept", &posture.Encryption{Algorithm: "aws:kms", KMSKeyID: ownKey, BucketKey: true}, kms, nil, true, plan.EncryptionOwnKey},
		{"a team's own key with DSSE is kept", &posture.Encryption{Algorithm: "aws:kms:dsse", KMSKeyID: ownKey}, kms, nil, true, plan.EncryptionOwnKey},
		{"a team's own key by bare id is kept", &posture.Encryption{Algorithm: "aws:kms", KMSKeyID: "5555eeee-12ab-34cd-56ef-1234567890ab"}, kms, nil, true, plan.EncryptionOwnKey},
		{"an accepted key", &posture.Encryption{Algorithm: "aws:kms", KMSKeyID: ownKey}, accepting, nil, false, ""},
		{"a key not accepted is replaced", &posture.Encryption{Algorithm: "aws:kms", KMSKeyID: otherOwnKey}, accepting,
			&posture.Encryption{Algorithm: "aws:kms", KMSKeyID: key, BucketKey: true}, true, plan.EncryptionKeyNotAccepted},
		{"a key not accepted, DSSE, is replaced keeping DSSE", &posture.Encryption{Algorithm: "aws:kms:dsse", KMSKeyID: otherOwnKey}, accepting,
			&posture.Encryption{Algorithm: "aws:kms:dsse", KMSKeyID: key}, true, plan.EncryptionKeyNotAccepted},
		{"a key named by alias is kept", &posture.Encryption{Algorithm: "aws:kms", KMSKeyID: "alias/team-data"}, accepting, nil, true, plan.EncryptionOwnKey},
		{"an accepted alias", &posture.Encryption{Algorithm: "aws:kms", KMSKeyID: "alias/team-data"},
			func(c *config.Config) {
				kms(c)
				c.AcceptedKMSKeys = []string{"arn:aws:kms:eu-west-1:111122223333:alias/team-data"}
			}, nil, false, ""},
		{"aws/s3 named explicitly is the AWS managed key", &posture.Encryption{Algorithm: "aws:kms", KMSKeyID: "alias/aws/s3"}, kms,
			&posture.Encryption{Algorithm: "aws:kms", KMSKeyID: key, BucketKey: true}, true, plan.EncryptionWeaker},
		{"another account's key is reported, not replaced", &posture.Encryption{Algorithm: "aws:kms", KMSKeyID: foreignKey}, kms, nil, true, plan.EncryptionForeignKey},
		{"another account's key is replaced with accepted keys set", &posture.Encryption{Algorithm: "aws:kms", KMSKeyID: foreignKey}, accepting,
			&posture.Encryption{Algorithm: "aws:kms", KMSKeyID: key, BucketKey: true}, true, plan.EncryptionForeignKey},
		{"an unknown algorithm is left alone", &posture.Encryption{Algorithm: "aws:fips-quantum"}, kms, nil, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fake.New()
			b := clean()
			b.Encryption = tt.have
			f.Put("acme-data", b)
			res := eval(t, engine(f, tt.cfg), bucketT, nil)
			if (len(res.Findings) > 0) != tt.finds || (tt.finds && res.Findings[0].ID != tt.id) {
				t.Fatalf("findings %+v, want %q", res.Findings, tt.id)
			}
			got, _ := f.Bucket("acme-data")
			want := tt.want
			if want == nil {
				want = tt.have
			}
			if !encEqual(got.Encryption, want) {
				t.Errorf("encryption %+v, want %+v", got.Encryption, want)
			}
		})
	}
}

func encEqual(a, b *posture.Encryption) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Algorithm == b.Algorithm && a.KMSKeyID == b.KMSKeyID && a.BucketKey == b.BucketKey && slices.Equal(a.BlockedTypes, b.BlockedTypes)
}

func approved(until string) map[string]string {
	t := map[string]string{"bucketguard:approved-public": "true", "owner": "web-team"}
	if until != "" {
		t["bucketguard:approved-until"] = until
	}
	return t
}

func TestApprovedBucketKeepsPublicReadOnly(t *testing.T) {
	f := fake.New()
	f.Put("acme-data", fake.Bucket{Policy: doc(publicRead, publicWrite), Tags: approved("2027-01-01T00:00:00Z"),
		ACL: aclWith(acl.Grant{Grantee: acl.Grantee{Type: acl.Group, URI: acl.AllUsers}, Permission: "READ"})})
	res := eval(t, engine(f), bucketT, nil)
	got, _ := f.Bucket("acme-data")
	if !strings.Contains(got.Policy, publicRead) || strings.Contains(got.Policy, "PublicWrite") {
		t.Errorf("policy after:\n%s", got.Policy)
	}
	if !strings.Contains(got.Policy, policy.TLSSid) {
		t.Error("TLS-only not enforced on an approved bucket")
	}
	if acl.Judge(got.ACL).Public {
		t.Error("public ACL kept: approval covers the policy only, ACLs stay blocked")
	}
	want := posture.BPA{BlockPublicAcls: true, IgnorePublicAcls: true}
	if got.BPA == nil || *got.BPA != want {
		t.Errorf("BPA %+v, want ACL blocks only so the policy may stay public", got.BPA)
	}
	if got.Encryption == nil {
		t.Error("encryption not enforced on an approved bucket")
	}
	if res.Exemption == nil || !res.Exemption.Used || res.Exemption.Status != plan.Approved {
		t.Errorf("exemption %+v", res.Exemption)
	}
	if res.Status != contract.Remediated {
		t.Errorf("outcome %s: %+v", res.Status, res.Actions)
	}
	// A second run: nothing to do, nothing published.
	f.Reset()
	again := eval(t, engine(f), bucketT, nil)
	if f.Writes() != 0 || len(again.Actions) != 0 {
		t.Errorf("second run wrote %d: %+v", f.Writes(), again.Actions)
	}
}

func aclWith(extra ...acl.Grant) acl.ACL {
	a := fake.PrivateACL()
	a.Grants = append(a.Grants, extra...)
	return a
}

func TestApprovalExpiredOrInvalidIsEnforced(t *testing.T) {
	for _, until := range []string{"2026-11-01T00:00:00Z", "next tuesday"} {
		t.Run(until, func(t *testing.T) {
			f := fake.New()
			f.Put("acme-data", fake.Bucket{Policy: doc(publicRead), Tags: approved(until), Encryption: &posture.Encryption{Algorithm: "AES256"}})
			res := eval(t, engine(f), bucketT, nil)
			got, _ := f.Bucket("acme-data")
			if strings.Contains(got.Policy, "PublicRead") {
				t.Errorf("public read kept under an expired or unreadable approval:\n%s", got.Policy)
			}
			if got.BPA == nil || *got.BPA != posture.AllOn {
				t.Errorf("BPA %+v", got.BPA)
			}
			if res.Exemption == nil || res.Exemption.Used {
				t.Errorf("exemption %+v", res.Exemption)
			}
		})
	}
}

func TestApprovalGrantedIsAlerted(t *testing.T) {
	f := fake.New()
	b := clean()
	b.Tags = approved("")
	b.BPA = &posture.BPA{BlockPublicAcls: true, IgnorePublicAcls: true}
	f.Put("acme-data", b)
	change := &events.Change{Name: events.PutBucketTagging, Actor: events.Actor{ARN: "arn:aws:iam::111122223333:user/dana"},
		RequestTags: map[string]string{"bucketguard:approved-public": "true"}}
	res := eval(t, engine(f), bucketT, change)
	if len(res.Findings) != 1 || res.Findings[0].ID != "approval-granted" || !strings.Contains(res.Findings[0].Summary, "user/dana") {
		t.Fatalf("findings %+v", res.Findings)
	}
	if res.Status != contract.Reported || f.Writes() != 0 {
		t.Errorf("outcome %s, writes %d", res.Status, f.Writes())
	}
}

func TestNotifyModeWritesNothing(t *testing.T) {
	f := fake.New()
	f.Put("acme-data", fake.Bucket{Policy: doc(publicWrite)})
	res := eval(t, engine(f, func(c *config.Config) { c.Mode = config.Notify }), bucketT, nil)
	if f.Writes() != 0 {
		t.Fatalf("notify mode wrote %d times", f.Writes())
	}
	if res.Status != contract.Notified || len(res.Actions) == 0 {
		t.Errorf("outcome %s actions %+v", res.Status, res.Actions)
	}
	for _, a := range res.Actions {
		if a.Outcome != remediations.Planned {
			t.Errorf("%s: %s, want planned", a.Name, a.Outcome)
		}
	}
}

func TestIdempotent(t *testing.T) {
	f := fake.New()
	f.Put("acme-data", fake.Bucket{Policy: doc(crossAccount, publicWrite),
		ACL: aclWith(acl.Grant{Grantee: acl.Grantee{Type: acl.Group, URI: acl.AllUsers}, Permission: "FULL_CONTROL"})})
	e := engine(f, func(c *config.Config) { c.EnforceVersioning, c.AccessLogBucket = true, "acme-logs" })
	first := eval(t, e, bucketT, nil)
	if first.Status != contract.Remediated {
		t.Fatalf("first run: %s %+v", first.Status, first.Actions)
	}
	f.Reset()
	second := eval(t, e, bucketT, nil)
	if f.Writes() != 0 || len(second.Findings) != 0 || second.Status != contract.Clean {
		t.Errorf("second run: writes %d, findings %+v", f.Writes(), second.Findings)
	}
}

func TestPermanentErrorDoesNotStopOtherFixes(t *testing.T) {
	f := fake.New()
	f.Put("acme-data", fake.Bucket{Policy: doc(publicRead),
		ACL: aclWith(acl.Grant{Grantee: acl.Grantee{Type: acl.Group, URI: acl.AllUsers}, Permission: "READ"})})
	f.Fault = fake.FailOp("s3:PutBucketAcl", fake.APIError("AccessDenied", "Access Denied"))
	res, err := engine(f).Evaluate(context.Background(), bucketT, nil, quiet)
	if err != nil {
		t.Fatalf("a permanent error must not ask for a retry: %v", err)
	}
	o := outcomes(res)
	if o[plan.RemovePublicACLGrants] != remediations.WriteFailed {
		t.Errorf("ACL outcome %s", o[plan.RemovePublicACLGrants])
	}
	for _, n := range []plan.ActionName{plan.RemovePublicPolicyStatements, plan.BlockPublicAccess, plan.RestoreDefaultEncryption} {
		if o[n] != remediations.Verified {
			t.Errorf("%s: %s, want verified", n, o[n])
		}
	}
	if res.Status != contract.Partial {
		t.Errorf("outcome %s", res.Status)
	}
	for _, a := range res.Actions {
		if a.Name == plan.RemovePublicACLGrants && !strings.Contains(a.Error, "AccessDenied") {
			t.Errorf("error %q does not say AccessDenied", a.Error)
		}
	}
}

func TestTransientErrors(t *testing.T) {
	t.Run("on a read: retry, nothing written", func(t *testing.T) {
		f := fake.New()
		f.Put("acme-data", fake.Bucket{Policy: doc(publicRead)})
		f.Fault = fake.FailOp("s3:GetBucketAcl", fake.APIError("SlowDown", "Please reduce your request rate."))
		_, err := engine(f).Evaluate(context.Background(), bucketT, nil, quiet)
		var te *awserr.TransientError
		if !errors.As(err, &te) || !awserr.Transient(err) {
			t.Fatalf("err %v: want a TransientError", err)
		}
		if f.Writes() != 0 {
			t.Errorf("wrote %d times on an incomplete posture", f.Writes())
		}
	})
	t.Run("5xx on a write: stop, retry", func(t *testing.T) {
		f := fake.New()
		f.Put("acme-data", fake.Bucket{Policy: doc(publicRead)})
		f.Fault = fake.FailOp("s3:PutPublicAccessBlock", fake.HTTPError(503))
		res, err := engine(f).Evaluate(context.Background(), bucketT, nil, quiet)
		if !awserr.Transient(err) {
			t.Fatalf("err %v: want transient", err)
		}
		// Encryption does not wait for anything: it went out beside the
		// policy write; Block Public Access waited for the policy, failed,
		// and the retry finishes it.
		o := outcomes(res)
		if o[plan.RemovePublicPolicyStatements] != remediations.Verified || o[plan.RestoreDefaultEncryption] != remediations.Verified ||
			o[plan.BlockPublicAccess] != remediations.WriteFailed {
			t.Errorf("outcomes %v", o)
		}
	})
	t.Run("cross-check failures never fail the run", func(t *testing.T) {
		f := fake.New()
		f.Put("acme-data", clean())
		f.Fault = fake.FailOp("s3:GetBucketPolicyStatus", fake.APIError("ThrottlingException", "slow down"))
		if res := eval(t, engine(f), bucketT, nil); res.Status != contract.Clean {
			t.Errorf("outcome %s", res.Status)
		}
	})
}

func TestBucketDeleted(t *testing.T) {
	t.Run("before the read", func(t *testing.T) {
		f := fake.New()
		res := eval(t, engine(f), bucketT, nil)
		if res.Status != contract.BucketGone || f.Writes() != 0 {
			t.Errorf("outcome %s writes %d", res.Status, f.Writes())
		}
	})
	t.Run("mid-flight", func(t *testing.T) {
		f := fake.New()
		f.Put("acme-data", fake.Bucket{Policy: doc(publicRead)})
		f.Fault = func(op op.Operation, b string, _ int) error {
			if op == "s3:PutBucketPolicy" {
				f.Delete(b)
				return fake.APIError("NoSuchBucket", "The specified bucket does not exist")
			}
			return nil
		}
		res, err := engine(f).Evaluate(context.Background(), bucketT, nil, quiet)
		if err != nil {
			t.Fatalf("a vanished bucket must not ask for a retry: %v", err)
		}
		// Encryption went out beside the policy write and may have landed
		// before the bucket went.
		if !strings.Contains(res.Error, "no longer exists") || (res.Status != contract.Failed && res.Status != contract.Partial) {
			t.Errorf("outcome %s error %q", res.Status, res.Error)
		}
		if f.Count("s3:PutPublicAccessBlock") != 0 {
			t.Error("kept writing to a bucket that is gone")
		}
	})
}

func TestDeadlineStopsBeforeWriting(t *testing.T) {
	f := fake.New()
	f.Put("acme-data", fake.Bucket{Policy: doc(publicRead)})
	e := engine(f)
	ctx, cancel := context.WithDeadline(context.Background(), now.Add(2*time.Second)) // margin is 5 s
	defer cancel()
	res, err := e.Evaluate(ctx, bucketT, nil, quiet)
	if !errors.Is(err, awserr.ErrDeadline) {
		t.Fatalf("err %v, want ErrDeadline", err)
	}
	if f.Writes() != 0 {
		t.Errorf("started %d writes with 2 s left", f.Writes())
	}
	for _, a := range res.Actions {
		if a.Outcome != remediations.NotStarted {
			t.Errorf("%s: %s", a.Name, a.Outcome)
		}
	}
}

func TestOwnershipEnforcement(t *testing.T) {
	own := func(c *config.Config) { c.EnforceOwnership = true }
	t.Run("ACL owner-only after the fix", func(t *testing.T) {
		f := fake.New()
		b := clean()
		b.ACL = aclWith(acl.Grant{Grantee: acl.Grantee{Type: acl.Group, URI: acl.AllUsers}, Permission: "READ"})
		f.Put("acme-data", b)
		res := eval(t, engine(f, own), bucketT, nil)
		got, _ := f.Bucket("acme-data")
		if got.Ownership != posture.BucketOwnerEnforced || outcomes(res)[plan.EnforceBucketOwner] != remediations.Verified {
			t.Errorf("ownership %s, outcomes %v", got.Ownership, outcomes(res))
		}
	})
	t.Run("LogDelivery grant keeps ACLs on", func(t *testing.T) {
		f := fake.New()
		b := clean()
		b.ACL = aclWith(acl.Grant{Grantee: acl.Grantee{Type: acl.Group, URI: acl.LogDelivery}, Permission: "WRITE"})
		f.Put("acme-data", b)
		res := eval(t, engine(f, own), bucketT, nil)
		if outcomes(res)[plan.EnforceBucketOwner] != remediations.Skipped || f.Count("s3:PutBucketOwnershipControls") != 0 {
			t.Errorf("outcomes %v", outcomes(res))
		}
	})
}

func TestCrossCheckWithAWS(t *testing.T) {
	f := fake.New()
	b := clean()
	yes := true
	b.PolicyStatus = &yes // AWS disagrees with bucketguard
	f.Put("acme-data", b)
	res := eval(t, engine(f), bucketT, nil)
	if len(res.Notes) != 1 || len(res.Findings) != 1 || res.Findings[0].ID != "aws-judges-policy-public" {
		t.Errorf("notes %v findings %+v", res.Notes, res.Findings)
	}

	f = fake.New()
	f.PolicyStatusUnsupported = true
	f.Put("acme-data", clean())
	if res := eval(t, engine(f), bucketT, nil); res.Status != contract.Clean {
		t.Errorf("unsupported GetBucketPolicyStatus: outcome %s", res.Status)
	}
}

func TestAccountLevel(t *testing.T) {
	acct := posture.Target{Account: fake.Account, Region: "us-east-1"}
	f := fake.New()
	res := eval(t, engine(f), acct, &events.Change{Name: events.DeleteAccountPublicAccessBlock})
	if res.Status != contract.Reported || f.Writes() != 0 || f.Reads() != 1 {
		t.Errorf("control off: outcome %s, reads %d, writes %d", res.Status, f.Reads(), f.Writes())
	}
	res = eval(t, engine(f, func(c *config.Config) { c.EnforceAccountBPA = true }), acct, nil)
	if res.Status != contract.Remediated || *f.AccountBPA() != posture.AllOn {
		t.Errorf("control on: outcome %s, account BPA %+v", res.Status, f.AccountBPA())
	}
}

// 20 events for one bucket at once: the end state is right, the legitimate
// statement survives, and the TLS-only statement exists once.
func TestConcurrentEventsOnOneBucket(t *testing.T) {
	f := fake.New()
	f.Put("acme-data", fake.Bucket{Policy: doc(crossAccount, publicWrite, publicRead)})
	e := engine(f)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.Evaluate(context.Background(), bucketT, nil, quiet); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got, _ := f.Bucket("acme-data")
	if strings.Count(got.Policy, policy.TLSSid) != 1 || !strings.Contains(got.Policy, crossAccount) {
		t.Fatalf("policy after 20 concurrent runs:\n%s", got.Policy)
	}
	d, _ := policy.Parse([]byte(got.Policy))
	if policy.Judge(d).Public {
		t.Error("still public")
	}
}

// Every call the engine makes is in the IAM action list the stack grants.
func TestEveryCallIsInTheIAMActionList(t *testing.T) {
	cfg := func(c *config.Config) {
		c.EnforceVersioning, c.AccessLogBucket, c.EnforceOwnership, c.EnforceAccountBPA = true, "acme-logs", true, true
	}
	f := fake.New()
	f.Put("acme-data", fake.Bucket{Policy: doc(publicRead), ACL: aclWith(acl.Grant{Grantee: acl.Grantee{Type: acl.Group, URI: acl.AllUsers}, Permission: "READ"})})
	f.PutAccessPoint("acme-ap", fake.AccessPoint{Bucket: "acme-data", Policy: apPolicy("acme-ap", publicAP)})
	e := engine(f, cfg)
	eval(t, e, bucketT, nil)
	granted := append(e.Config.BucketActions(), e.Config.AccountActions()...)
	granted = append(granted, e.Config.Actions(op.AccessPointARN)...)
	seen := map[op.Operation]bool{}
	for _, c := range f.Calls() {
		seen[c.Op] = true
		spec, ok := op.Lookup(c.Op)
		if !ok || !slices.Contains(granted, spec.IAM) {
			t.Errorf("call %s needs %q, which the action list does not grant", c.Op, spec.IAM)
		}
	}
	if len(seen) < 22 {
		t.Errorf("only %d distinct calls exercised: %v", len(seen), seen)
	}
	for _, a := range granted {
		if strings.Contains(a, "*") || strings.Contains(strings.ReplaceAll(a, "ObjectLambda", ""), "Object") {
			t.Errorf("action %q is a wildcard or touches object data", a)
		}
	}
}

func TestResultJSONIsStable(t *testing.T) {
	f := fake.New()
	f.Put("acme-data", fake.Bucket{Policy: doc(publicRead)})
	res := eval(t, engine(f), bucketT, nil)
	b, err := json.Marshal(res)
	if err != nil || !strings.Contains(string(b), `"status":"remediated"`) {
		t.Errorf("result JSON %s %v", b, err)
	}
}

// Any change of the approval, by whatever call, is told naming
// who made it (against the recorded approval when a ledger keeps one), and
// a change to an approved bucket's public surface is told, listing what is
// public, though nothing is removed.
func TestApprovalIntegrity(t *testing.T) {
	actor := events.Actor{ARN: "arn:aws:iam::111122223333:user/mallory"}
	for _, tc := range []struct {
		name    string
		tags    map[string]string
		prior   *plan.ApprovalTags
		change  events.Change
		ledger  bool
		want    plan.FindingID
		summary string
	}{
		{"TagResource grants (ABAC bucket)", approved(""), nil,
			events.Change{Name: events.TagResource, Actor: actor, RequestTags: map[string]string{"bucketguard:approved-public": "true"}}, true, plan.ApprovalGranted, "user/mallory with TagResource"},
		{"CreateBucket with the tag grants", approved(""), nil, events.Change{Name: events.CreateBucket, Actor: actor}, true, plan.ApprovalGranted, "CreateBucket"},
		{"CreateBucket with the tag, no ledger", approved(""), nil, events.Change{Name: events.CreateBucket, Actor: actor}, false, plan.ApprovalGranted, "CreateBucket"},
		{"expiry extended", approved("2099-01-01T00:00:00Z"), &plan.ApprovalTags{Value: "true", Until: "2027-01-01T00:00:00Z"},
			events.Change{Name: events.PutBucketTagging, Actor: actor}, true, plan.ApprovalChanged, "was approved until 2027-01-01T00:00:00Z"},
		{"UntagResource removes", map[string]string{"owner": "web-team"}, &plan.ApprovalTags{Value: "true"},
			events.Change{Name: events.UntagResource, Actor: actor, RemovedTags: []string{"bucketguard:approved-public"}}, true, plan.ApprovalRemoved, "removed by"},
		{"UntagResource removes, no ledger", map[string]string{"owner": "web-team"}, nil,
			events.Change{Name: events.UntagResource, Actor: actor, RemovedTags: []string{"bucketguard:approved-public"}}, false, plan.ApprovalRemoved, "removed by"},
		{"DeleteBucketTagging removes a recorded approval", nil, &plan.ApprovalTags{Value: "true"}, events.Change{Name: events.DeleteBucketTagging, Actor: actor}, true, plan.ApprovalRemoved, "DeleteBucketTagging"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := fake.New()
			b := clean()
			b.BPA = &posture.BPA{BlockPublicAcls: true, IgnorePublicAcls: true}
			b.Tags = tc.tags
			f.Put("acme-data", b)
			e := engine(f)
			store := f.Store()
			if tc.ledger {
				e.Approvals = store
				if tc.prior != nil {
					if err := store.SetApproval(context.Background(), fake.Account, "acme-data", *tc.prior, "before", now); err != nil {
						t.Fatal(err)
					}
				}
			}
			res := eval(t, e, bucketT, &tc.change)
			var got *plan.Finding
			for i := range res.Findings {
				if res.Findings[i].ID == tc.want {
					got = &res.Findings[i]
				}
			}
			if got == nil || got.Severity != plan.Info || !strings.Contains(got.Summary, tc.summary) {
				t.Fatalf("findings %+v, want %s saying %q", res.Findings, tc.want, tc.summary)
			}
			if tc.ledger {
				rec, _ := store.Approval(context.Background(), fake.Account, "acme-data")
				if rec == nil || rec.Value != tc.tags["bucketguard:approved-public"] {
					t.Errorf("recorded %+v", rec)
				}
				// The same call again changes nothing and tells nothing.
				again := eval(t, e, bucketT, &tc.change)
				for _, fd := range again.Findings {
					if fd.ID == tc.want {
						t.Errorf("told twice: %+v", fd)
					}
				}
			}
		})
	}
	t.Run("approved bucket: a new public-read statement and policy BPA off are told", func(t *testing.T) {
		f := fake.New()
		b := clean()
		b.Tags = approved("")
		b.BPA = &posture.BPA{BlockPublicAcls: true, IgnorePublicAcls: true}
		b.Policy = doc(publicRead, tlsStmt())
		f.Put("acme-data", b)
		res := eval(t, engine(f), bucketT, &events.Change{Name: events.PutBucketPolicy, Actor: actor})
		if res.Status == contract.Clean || len(res.Findings) != 1 || res.Findings[0].ID != plan.ApprovedSurface ||
			!strings.Contains(res.Findings[0].Summary, "statement(s) 0 grant public read") || !strings.Contains(res.Findings[0].Summary, "BlockPublicPolicy") {
			t.Fatalf("status %s findings %+v", res.Status, res.Findings)
		}
		if f.Writes() != 0 {
			t.Errorf("%d writes: nothing is removed from an approved bucket's public read", f.Writes())
		}
	})
}
