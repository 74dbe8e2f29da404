package remediations

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations/acl"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/policy"
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

// Finding is one thing wrong (or worth knowing) about a target.
type Finding struct {
	ID        string   `json:"id"`
	Severity  Severity `json:"severity"`
	Setting   string   `json:"setting"`
	Summary   string   `json:"summary"`
	Statement *int     `json:"statement,omitempty"`
	Grant     *int     `json:"grant,omitempty"`
}

// ActionName names a fix.
type ActionName string

// The fixes, in the order they are applied. The order matters:
//   - ACL grants go first: once IgnorePublicAcls is on, GetBucketAcl returns
//     only the grants S3 enforces, so public grants would be hidden rather than
//     removed; and BucketOwnerEnforced is refused while the ACL grants access
//     outside the account.
//   - The policy goes before Block Public Access: with BlockPublicPolicy on,
//     S3 rejects a PutBucketPolicy it judges public, which an approved bucket's
//     policy still is.
//   - Block Public Access follows, so that public access is removed before it
//     is hidden.
//   - The rest do not interact; the account-wide setting comes last.
//
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html
const (
	RemovePublicACLGrants        ActionName = "remove-public-acl-grants"
	RemovePublicPolicyStatements ActionName = "remove-public-policy-statements"
	RequireTLS                   ActionName = "require-tls"
	BlockPublicAccess            ActionName = "block-public-access"
	RestoreDefaultEncryption     ActionName = "restore-default-encryption"
	EnforceBucketOwner           ActionName = "enforce-bucket-owner"
	EnableVersioning             ActionName = "enable-versioning"
	EnableAccessLogging          ActionName = "enable-access-logging"
	BlockAccountPublicAccess     ActionName = "block-account-public-access"
)

// Action is one named fix of the plan.
type Action struct {
	Name    ActionName `json:"name"`
	Setting string     `json:"setting"`
	Op      string     `json:"op,omitempty"` // the write that carries it out
	Why     string     `json:"why"`
	Before  string     `json:"before,omitempty"`
	After   string     `json:"after,omitempty"`
	// Skipped says why the fix will not be attempted; empty when it will.
	Skipped string `json:"skipped,omitempty"`
}

// Step is one write. The policy fixes share one: removing statements and
// adding the TLS-only statement are a single PutBucketPolicy.
type Step struct {
	Op      config.Operation `json:"op"`
	Actions []ActionName     `json:"actions"`

	BPA          *BPA        `json:"bpa,omitempty"`
	Policy       string      `json:"policy,omitempty"`
	DeletePolicy bool        `json:"delete_policy,omitempty"`
	ACL          *acl.ACL    `json:"acl,omitempty"`
	Encryption   *Encryption `json:"encryption,omitempty"`
	Ownership    string      `json:"ownership,omitempty"`
	Versioning   string      `json:"versioning,omitempty"`
	Logging      *Logging    `json:"logging,omitempty"`

	// For verification: what must hold after the write.
	keptPolicy  []string // canonical kept statements
	droppedSids []string
}

// Exemption records the public-read approval and what it did.
type Exemption struct {
	Tag    string     `json:"tag"`
	Status string     `json:"status"` // approved, expired, invalid, unknown
	Until  *time.Time `json:"until,omitempty"`
	// Used is true when the approval kept public read that would otherwise
	// have been removed, or shaped Block Public Access around it.
	Used bool `json:"used"`
	// KeptStatements are the public-read statements left in place.
	KeptStatements []int `json:"kept_statements,omitempty"`
}

// Approval statuses.
const (
	Approved        = "approved"
	ApprovalExpired = "expired"
	ApprovalInvalid = "invalid"
	ApprovalUnknown = "unknown"
)

// Plan is what bucketguard will do about a posture.
type Plan struct {
	Target    Target      `json:"target"`
	Mode      config.Mode `json:"mode"`
	Findings  []Finding   `json:"findings"`
	Actions   []Action    `json:"actions"`
	Steps     []Step      `json:"steps"`
	Exemption *Exemption  `json:"exemption,omitempty"`
	Notes     []string    `json:"notes,omitempty"`
}

// Severity is the worst severity among the findings.
func (p Plan) Severity() Severity {
	var s Severity
	for _, f := range p.Findings {
		if f.Severity.Worse(s) {
			s = f.Severity
		}
	}
	return s
}

// Input is what the planner needs besides the posture.
type Input struct {
	Config config.Config
	Now    time.Time
	// Event is the CloudTrail event name that triggered the evaluation,
	// empty for a sweep or the CLI.
	Event       events.Name
	Actor       string
	RequestTags map[string]string
}

type planner struct {
	Plan
	p  Posture
	in Input
	// keepPublicRead is true when public read may stay: the bucket is
	// approved, or its tags could not be read to tell.
	keepPublicRead bool
	// aclAfter is the ACL as it will be after the plan, when known.
	aclAfter *acl.ACL
}

// NewPlan decides what to do about a posture. It is pure: same posture and
// input, same plan.
func NewPlan(p Posture, in Input) Plan {
	pl := &planner{Plan: Plan{Target: p.Target, Mode: in.Config.Mode, Findings: []Finding{}, Actions: []Action{}, Steps: []Step{}}, p: p, in: in}
	if p.AccountLevel() {
		pl.accountBPA(true)
		return pl.Plan
	}
	pl.approval()
	pl.acl()
	pl.policy()
	pl.bucketBPA()
	pl.encryption()
	pl.ownership()
	pl.versioning()
	pl.logging()
	pl.accountBPA(false)
	return pl.Plan
}

func (pl *planner) find(f Finding) { pl.Findings = append(pl.Findings, f) }

// unreadable reports a setting whose read failed: it is not judged, and
// nothing is written on a guess.
func (pl *planner) unreadable(setting, label string, f Fact[string]) {
	pl.find(Finding{ID: setting + "-unreadable", Severity: High, Setting: setting,
		Summary: fmt.Sprintf("could not read the %s (%s); it was not judged and is left as it is", label, f.Error)})
}

// act adds actions and, unless all are skipped, one step carrying them.
func (pl *planner) act(step *Step, actions ...Action) {
	for i := range actions {
		if actions[i].Skipped == "" && step != nil {
			actions[i].Op = string(step.Op)
			step.Actions = append(step.Actions, actions[i].Name)
		}
	}
	pl.Actions = append(pl.Actions, actions...)
	if step != nil && len(step.Actions) > 0 {
		pl.Steps = append(pl.Steps, *step)
	}
}

func ptr(i int) *int { return &i }

// publicSeverity ranks public access: write is critical, read high.
func publicSeverity(write bool) Severity {
	if write {
		return Critical
	}
	return High
}

func errFact[T any](f Fact[T]) Fact[string] { return Fact[string]{State: f.State, Error: f.Error} }

// approval reads the approval tags. An expired or unreadable expiry counts as
// no approval; tags that cannot be read at all leave public read alone (its
// judgement depends on them) and say so.
func (pl *planner) approval() {
	cfg := pl.in.Config
	tags := pl.p.Tags
	if tags.State == Failed {
		pl.keepPublicRead = true
		pl.Exemption = &Exemption{Tag: cfg.ApprovalTagKey, Status: ApprovalUnknown}
		pl.find(Finding{ID: "tags-unreadable", Severity: High, Setting: "tags",
			Summary: fmt.Sprintf("could not read the bucket's tags (%s), so whether public read is approved is unknown: public read is left in place, everything else is enforced", tags.Error)})
		return
	}
	val, ok := tags.Value[cfg.ApprovalTagKey]
	if !ok || !strings.EqualFold(strings.TrimSpace(val), "true") {
		return
	}
	ex := &Exemption{Tag: cfg.ApprovalTagKey, Status: Approved}
	pl.Exemption = ex
	if until, ok := tags.Value[cfg.ApprovalUntilTagKey]; ok {
		t, err := time.Parse(time.RFC3339, strings.TrimSpace(until))
		switch {
		case err != nil:
			ex.Status = ApprovalInvalid
			pl.find(Finding{ID: "approval-invalid", Severity: Medium, Setting: "tags",
				Summary: fmt.Sprintf("tag %s=%q is not an RFC 3339 time, so the public-read approval is not honoured", cfg.ApprovalUntilTagKey, until)})
			return
		case !t.After(pl.in.Now):
			ex.Status, ex.Until = ApprovalExpired, &t
			pl.find(Finding{ID: "approval-expired", Severity: Medium, Setting: "tags",
				Summary: fmt.Sprintf("the public-read approval expired at %s and is enforced as if absent", t.UTC().Format(time.RFC3339))})
			return
		default:
			ex.Until = &t
		}
	}
	pl.keepPublicRead = true
	// Adding the approval is itself worth an alert: who approved, until when.
	if pl.in.Event == events.PutBucketTagging {
		if _, set := pl.in.RequestTags[cfg.ApprovalTagKey]; set || pl.in.RequestTags == nil {
			until := "with no expiry"
			if ex.Until != nil {
				until = "until " + ex.Until.UTC().Format(time.RFC3339)
			}
			pl.find(Finding{ID: "approval-granted", Severity: Info, Setting: "tags",
				Summary: fmt.Sprintf("public read approved by %s %s (tag %s)", orUnknown(pl.in.Actor), until, cfg.ApprovalTagKey)})
		}
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown actor"
	}
	return s
}

func (pl *planner) acl() {
	a := pl.p.ACL
	if pl.p.Ownership.State == Set && pl.p.Ownership.Value == BucketOwnerEnforced {
		return // ACLs are disabled: they grant nothing and cannot be changed.
	}
	switch a.State {
	case Failed:
		pl.unreadable("acl", "ACL", errFact(a))
		return
	case Set:
	default:
		return
	}
	after := a.Value
	pl.aclAfter = &after
	r := acl.Judge(a.Value)
	if !r.Public {
		return
	}
	for _, i := range r.PublicGrants {
		v := r.Grants[i]
		pl.find(Finding{ID: "acl-public-grant", Severity: publicSeverity(v.Write), Setting: "acl", Grant: ptr(i),
			Summary: fmt.Sprintf("ACL grant %d: %s", i, v.Reason)})
	}
	fixed := acl.WithoutPublic(a.Value)
	pl.aclAfter = &fixed
	pl.act(&Step{Op: "s3:PutBucketAcl", ACL: &fixed}, Action{
		Name: RemovePublicACLGrants, Setting: "acl",
		Why:    fmt.Sprintf("remove %d public grant(s); keep the owner and the other %d grant(s) as they are", len(r.PublicGrants), len(r.KeptGrants)),
		Before: renderACL(a.Value), After: renderACL(fixed),
	})
}

func (pl *planner) policy() {
	cfg, pf := pl.in.Config, pl.p.Policy
	var doc *policy.Document
	switch pf.State {
	case Failed:
		pl.unreadable("policy", "bucket policy", pf)
		return
	case Set:
		d, err := policy.Parse([]byte(pf.Value))
		if err != nil {
			pl.find(Finding{ID: "policy-unparseable", Severity: High, Setting: "policy",
				Summary: fmt.Sprintf("the bucket policy could not be read (%v); it is left as it is and Block Public Access is relied on", err)})
			return
		}
		doc = d
	case Absent:
		doc = policy.New()
	default:
		return
	}
	report := policy.Judge(doc)
	pl.crossCheck(report)
	opts := policy.FixOptions{KeepPublicRead: pl.keepPublicRead, RequireTLS: cfg.RequireTLS, Partition: pl.p.Partition(), Bucket: pl.p.Bucket}
	fix := doc.Fix(opts)
	tlsSkipped := ""
	if fix.AddedTLS && !fix.Empty && len(fix.Policy) > policy.MaxBytes {
		opts.RequireTLS = false
		fix = doc.Fix(opts)
		tlsSkipped = fmt.Sprintf("adding the TLS-only statement would take the policy past S3's %d-byte limit", policy.MaxBytes)
	}
	for _, i := range fix.Dropped {
		st := report.Statements[i]
		pl.find(Finding{ID: "policy-public-statement", Severity: publicSeverity(st.Write), Setting: "policy", Statement: ptr(i),
			Summary: fmt.Sprintf("policy statement %d%s: %s", i, sidNote(st.Sid), st.Reason)})
	}
	if len(fix.KeptPublicRead) > 0 {
		// Not a finding: an approved bucket that serves public reads is as
		// approved. The exemption records it, and every alert shows it.
		pl.Exemption.Used = true
		pl.Exemption.KeptStatements = fix.KeptPublicRead
	}
	tlsMissing := cfg.RequireTLS && !doc.RequiresTLS(pl.p.Partition(), pl.p.Bucket)
	if tlsMissing {
		pl.find(Finding{ID: "tls-not-required", Severity: Medium, Setting: "policy",
			Summary: "no policy statement denies requests made without TLS (aws:SecureTransport = false)"})
	}
	if !fix.Changed() && tlsSkipped == "" {
		return
	}
	var step *Step
	if fix.Changed() {
		step = &Step{Op: "s3:PutBucketPolicy", Policy: string(fix.Policy)}
		if fix.Empty {
			step = &Step{Op: "s3:DeleteBucketPolicy", DeletePolicy: true}
		}
		drop := map[int]bool{}
		for _, i := range fix.Dropped {
			drop[i] = true
			step.droppedSids = append(step.droppedSids, report.Statements[i].Sid)
		}
		for _, s := range doc.Statements {
			if !drop[s.Index] {
				c, _ := policy.Canonical(s.Raw)
				step.keptPolicy = append(step.keptPolicy, c)
			}
		}
	}
	before := "(no policy)"
	if pf.State == Set {
		before = pf.Value
	}
	after := string(fix.Policy)
	if fix.Empty {
		after = "(no policy)"
	}
	var actions []Action
	if len(fix.Dropped) > 0 {
		actions = append(actions, Action{Name: RemovePublicPolicyStatements, Setting: "policy",
			Why:    fmt.Sprintf("remove public statement(s) %s; %s", ints(fix.Dropped), keptNote(len(doc.Statements)-len(fix.Dropped))),
			Before: before, After: after})
	}
	if tlsMissing {
		a := Action{Name: RequireTLS, Setting: "policy",
			Why:    fmt.Sprintf("add Deny statement %q on aws:SecureTransport = false for the bucket and its objects", doc.FreeSid(policy.TLSSid)),
			Before: before, After: after, Skipped: tlsSkipped}
		if len(actions) > 0 {
			a.Before, a.After = "", "" // shown once, on the first policy action
		}
		actions = append(actions, a)
	}
	pl.act(step, actions...)
}

func keptNote(n int) string {
	if n == 0 {
		return "no other statement to keep"
	}
	return fmt.Sprintf("keep the other %d statement(s) byte for byte", n)
}

func sidNote(sid string) string {
	if sid == "" {
		return ""
	}
	return fmt.Sprintf(" (Sid %q)", sid)
}

func ints(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}

// crossCheck compares bucketguard's verdict with AWS's, where AWS gave one.
func (pl *planner) crossCheck(r policy.Report) {
	ps := pl.p.PolicyStatus
	if ps.State != Set || ps.Value == r.Public {
		return
	}
	if ps.Value {
		pl.find(Finding{ID: "aws-judges-policy-public", Severity: High, Setting: "policy",
			Summary: "AWS (GetBucketPolicyStatus) judges the bucket policy public, but bucketguard finds no public statement: Block Public Access restricts it; review the policy by hand"})
	}
	pl.Notes = append(pl.Notes, fmt.Sprintf("cross-check: AWS says the policy is public=%v, bucketguard says public=%v", ps.Value, r.Public))
}

func (pl *planner) bucketBPA() {
	f := pl.p.BucketBPA
	want := AllOn
	if pl.keepPublicRead {
		// Public read may stay in the policy: block and ignore public ACLs,
		// leave the policy settings as they are (never loosen them).
		want = BPA{BlockPublicAcls: true, IgnorePublicAcls: true}
	}
	var cur BPA
	switch f.State {
	case Set:
		cur = f.Value
	case Absent:
	case Failed:
		if want != AllOn {
			pl.unreadable("bpa", "bucket Block Public Access", errFact(f))
			return
		}
		// All four on can only tighten whatever is there.
		pl.find(Finding{ID: "bpa-unreadable", Severity: High, Setting: "bpa",
			Summary: fmt.Sprintf("could not read the bucket's Block Public Access (%s); all four settings are set regardless", f.Error)})
		pl.act(&Step{Op: "s3:PutPublicAccessBlock", BPA: &want}, Action{Name: BlockPublicAccess, Setting: "bpa",
			Why: "turn on all four Block Public Access settings", Before: "(unknown)", After: renderBPA(want)})
		return
	default:
		return
	}
	if cur.Covers(want) {
		return
	}
	if want != AllOn && pl.Exemption.Status == Approved {
		pl.Exemption.Used = true // BPA shaped around the approval
	}
	target := cur.Or(want)
	pl.find(Finding{ID: "bpa-off", Severity: Medium, Setting: "bpa", Summary: "the bucket's Block Public Access " + bpaState(f, want)})
	pl.act(&Step{Op: "s3:PutPublicAccessBlock", BPA: &target}, Action{Name: BlockPublicAccess, Setting: "bpa",
		Why: "turn on " + strings.Join(cur.Off(want), ", "), Before: renderBPAFact(f), After: renderBPA(target)})
}

func (pl *planner) encryption() {
	cfg, f := pl.in.Config, pl.p.Encryption
	want := Encryption{Algorithm: "AES256"}
	if cfg.Encryption == config.SSEKMS {
		want = Encryption{Algorithm: "aws:kms", KMSKeyID: cfg.KMSKeyARN, BucketKey: cfg.BucketKey}
	}
	var problem string
	switch f.State {
	case Failed:
		pl.unreadable("encryption", "default encryption", errFact(f))
		return
	case Absent:
		problem = "the bucket has no default encryption"
	case Set:
		problem = weaker(f.Value, cfg)
		want.BlockedTypes = f.Value.BlockedTypes // never drop an SSE-C block
	default:
		return
	}
	if problem == "" {
		return
	}
	pl.find(Finding{ID: "encryption-weaker", Severity: Medium, Setting: "encryption", Summary: problem})
	pl.act(&Step{Op: "s3:PutBucketEncryption", Encryption: &want}, Action{Name: RestoreDefaultEncryption, Setting: "encryption",
		Why: "restore the configured default encryption", Before: renderEncFact(f), After: renderEnc(want)})
}

// weaker says how the bucket's default encryption falls short of the
// configured one, or "". SSE-S3 < SSE-KMS < DSSE-KMS; with SSE-KMS
// configured, the configured key is required, since an attacker's own key is
// no protection.
func weaker(e Encryption, cfg config.Config) string {
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
	if !sameKey(e.KMSKeyID, cfg.KMSKeyARN) {
		key := e.KMSKeyID
		if key == "" {
			key = "the AWS managed key aws/s3"
		}
		return fmt.Sprintf("default encryption uses %s, not the configured KMS key", key)
	}
	return ""
}

// sameKey compares a bucket's KMSMasterKeyID, which may be a key id or ARN,
// with the configured key ARN.
func sameKey(have, wantARN string) bool {
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
	case Failed:
		pl.unreadable("ownership", "Object Ownership", f)
		return
	case Set:
		if f.Value == BucketOwnerEnforced {
			return
		}
	}
	cur := ObjectWriter // a bucket with no ownership controls behaves as ObjectWriter
	if f.State == Set {
		cur = f.Value
	}
	pl.find(Finding{ID: "ownership-not-enforced", Severity: Low, Setting: "ownership",
		Summary: fmt.Sprintf("Object Ownership is %s: ACLs still grant access", cur)})
	a := Action{Name: EnforceBucketOwner, Setting: "ownership", Why: "set Object Ownership to BucketOwnerEnforced (ACLs off)",
		Before: cur, After: BucketOwnerEnforced}
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
		pl.act(&Step{Op: "s3:PutBucketAcl", ACL: &shown}, Action{Name: RemovePublicACLGrants, Setting: "acl",
			Why:    "write the ACL back as S3 enforces it, dropping any public grant IgnorePublicAcls hides, so that BucketOwnerEnforced is accepted",
			Before: "(as read, filtered by IgnorePublicAcls) " + renderACL(shown), After: renderACL(shown)})
	}
	pl.act(&Step{Op: "s3:PutBucketOwnershipControls", Ownership: BucketOwnerEnforced}, a)
}

// aclFiltered reports whether the ACL was read with IgnorePublicAcls in
// force, bucket or account: S3 then returns only the grants it enforces.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html
func (pl *planner) aclFiltered() bool {
	return (pl.p.BucketBPA.State == Set && pl.p.BucketBPA.Value.IgnorePublicAcls) ||
		(pl.p.AccountBPA.State == Set && pl.p.AccountBPA.Value.IgnorePublicAcls)
}

func (pl *planner) aclPlanned() bool {
	for _, a := range pl.Actions {
		if a.Name == RemovePublicACLGrants {
			return true
		}
	}
	return false
}

func (pl *planner) versioning() {
	if !pl.in.Config.EnforceVersioning {
		return
	}
	f := pl.p.Versioning
	switch {
	case f.State == Failed:
		pl.unreadable("versioning", "versioning", f)
		return
	case f.State == Set && f.Value == "Enabled":
		return
	}
	cur := "never enabled"
	if f.State == Set {
		cur = f.Value
	}
	pl.find(Finding{ID: "versioning-off", Severity: Low, Setting: "versioning", Summary: "versioning is " + strings.ToLower(cur)})
	pl.act(&Step{Op: "s3:PutBucketVersioning", Versioning: "Enabled"}, Action{Name: EnableVersioning, Setting: "versioning",
		Why: "turn versioning on", Before: cur, After: "Enabled"})
}

func (pl *planner) logging() {
	cfg := pl.in.Config
	if cfg.AccessLogBucket == "" {
		return
	}
	f := pl.p.Logging
	switch f.State {
	case Failed:
		pl.unreadable("logging", "server access logging", errFact(f))
		return
	case Set:
		return // logging somewhere already: the owner's choice
	}
	want := Logging{TargetBucket: cfg.AccessLogBucket, TargetPrefix: cfg.AccessLogPrefix + pl.p.Bucket + "/"}
	pl.find(Finding{ID: "access-logging-off", Severity: Low, Setting: "logging", Summary: "server access logging is off"})
	a := Action{Name: EnableAccessLogging, Setting: "logging", Why: "send server access logs to " + cfg.AccessLogBucket,
		Before: "off", After: fmt.Sprintf("s3://%s/%s", want.TargetBucket, want.TargetPrefix)}
	if pl.p.Bucket == cfg.AccessLogBucket {
		a.Skipped = "this is the log bucket itself; logging it into itself would log its own log writes"
	}
	pl.act(&Step{Op: "s3:PutBucketLogging", Logging: &want}, a)
}

// accountBPA checks the account's Block Public Access. For an account-level
// event it is the whole evaluation; for a bucket it matters only when the
// account control is on.
func (pl *planner) accountBPA(accountEvent bool) {
	cfg, f := pl.in.Config, pl.p.AccountBPA
	if !cfg.EnforceAccountBPA && !accountEvent {
		return
	}
	var cur BPA
	switch f.State {
	case Set:
		cur = f.Value
	case Absent:
	case Failed:
		pl.unreadable("account-bpa", "account Block Public Access", errFact(f))
		if !cfg.EnforceAccountBPA {
			return
		}
	default:
		return
	}
	if f.Known() && cur.Covers(AllOn) {
		return
	}
	if f.Known() {
		pl.find(Finding{ID: "account-bpa-off", Severity: Medium, Setting: "account-bpa", Summary: "the account's Block Public Access " + bpaState(f, AllOn)})
	}
	a := Action{Name: BlockAccountPublicAccess, Setting: "account-bpa", Why: "turn on all four account-level Block Public Access settings",
		Before: renderBPAFact(f), After: renderBPA(AllOn)}
	if !cfg.EnforceAccountBPA {
		a.Skipped = "the account-level control is off (" + config.EnvEnforceAccountBPA + "=false): reported only"
	}
	on := AllOn
	pl.act(&Step{Op: "s3control:PutPublicAccessBlock", BPA: &on}, a)
}

// bpaState says how a Block Public Access configuration falls short of want.
func bpaState(f Fact[BPA], want BPA) string {
	if f.State != Set {
		return "is not configured"
	}
	return "has " + strings.Join(f.Value.Off(want), ", ") + " off"
}

func renderBPA(b BPA) string {
	return fmt.Sprintf("BlockPublicAcls=%v IgnorePublicAcls=%v BlockPublicPolicy=%v RestrictPublicBuckets=%v",
		b.BlockPublicAcls, b.IgnorePublicAcls, b.BlockPublicPolicy, b.RestrictPublicBuckets)
}

func renderBPAFact(f Fact[BPA]) string {
	switch f.State {
	case Set:
		return renderBPA(f.Value)
	case Absent:
		return "(not configured: all four off)"
	}
	return "(unknown)"
}

func renderEnc(e Encryption) string {
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

func renderEncFact(f Fact[Encryption]) string {
	if f.State == Absent {
		return "(none)"
	}
	return renderEnc(f.Value)
}

func renderACL(a acl.ACL) string {
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
