package plan

import (
	"fmt"
	"strings"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations/acl"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/policy"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// Public access: the approval, the ACL, the bucket policy and the bucket's
// Block Public Access, judged by AWS's meaning of "public".

func orUnknown(s string) string {
	if s == "" {
		return "an unknown actor"
	}
	return s
}

func (pl *planner) acl() {
	a := pl.p.ACL
	if pl.p.Ownership.State == posture.Set && pl.p.Ownership.Value == posture.BucketOwnerEnforced {
		return // ACLs are disabled: they grant nothing and cannot be changed.
	}
	switch a.State {
	case posture.Failed:
		pl.unreadable(ACLUnreadable, "acl", "ACL", errFact(a))
		return
	case posture.Set:
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
		pl.find(Finding{ID: PublicACLGrant, Severity: publicSeverity(v.Write), Setting: "acl", Grant: ptr(i),
			Summary: fmt.Sprintf("ACL grant %d: %s", i, v.Reason)})
	}
	fixed := acl.WithoutPublic(a.Value)
	pl.aclAfter = &fixed
	pl.act(&Step{Op: op.PutBucketAcl, ACL: &fixed}, Action{
		Name: RemovePublicACLGrants, Setting: "acl",
		Why:    fmt.Sprintf("remove %d public grant(s); keep the owner and the other %d grant(s) as they are", len(r.PublicGrants), len(r.KeptGrants)),
		Before: DescribeACL(a.Value), After: DescribeACL(fixed),
	})
}

func (pl *planner) policy() {
	doc := pl.policyDocument()
	if doc == nil {
		return
	}
	report := policy.Judge(doc)
	pl.crossCheck(report)
	pl.denials = doc.DeniesTo(pl.caller())
	pl.delegation(doc)
	exempt := pl.siteExemption()
	fix, tooBig := pl.fixPolicy(doc, exempt == "")
	pl.publicStatements(report, fix)
	pl.policyActions(doc, fix, pl.tlsPlan(doc, exempt, tooBig))
}

// siteExemption says why a bucket gets no TLS-only Deny for its website,
// "" when it gets one. A website endpoint serves HTTP only: a TLS-only Deny
// would refuse every request to the site. So a bucket that may serve a site
// (public read approved, or not known to be unapproved) never gets one when
// it has a website, or when its website configuration could not be read. A
// bucket that is not approved cannot serve a site (Block Public Access
// keeps it private), and keeps the TLS-only Deny.
func (pl *planner) siteExemption() string {
	switch {
	case !pl.keepPublicRead:
		return ""
	case pl.p.Website.State == posture.Set:
		return websiteNoTLS
	case pl.p.Website.State == posture.Failed:
		return "the bucket's website configuration could not be read (" + pl.p.Website.Error + "), and a website endpoint serves HTTP only: a TLS-only Deny could take an approved site down"
	}
	return ""
}

// fixPolicy is the policy's fix: public statements out (but approved public
// read), the TLS-only statement in when required. tooBig says why the
// TLS-only statement was left out, when adding it would take the policy
// past S3's limit.
func (pl *planner) fixPolicy(doc *policy.Document, requireTLS bool) (fix policy.Fix, tooBig string) {
	opts := policy.FixOptions{KeepPublicRead: pl.keepPublicRead, RequireTLS: pl.in.Config.RequireTLS && requireTLS, Partition: pl.p.Partition(), Bucket: pl.p.Bucket}
	fix = doc.Fix(opts)
	if fix.AddedTLS && !fix.Empty && len(fix.Policy) > policy.MaxBytes {
		opts.RequireTLS = false
		fix = doc.Fix(opts)
		tooBig = fmt.Sprintf("adding the TLS-only statement would take the policy past S3's %d-byte limit", policy.MaxBytes)
	}
	return fix, tooBig
}

// publicStatements finds each public statement the fix drops, and records
// the public-read statements it keeps for an approval.
func (pl *planner) publicStatements(report policy.Report, fix policy.Fix) {
	for _, i := range fix.Dropped {
		st := report.Statements[i]
		pl.find(Finding{ID: PublicPolicyStatement, Severity: publicSeverity(st.Write), Setting: "policy", Statement: ptr(i),
			Summary: fmt.Sprintf("policy statement %d%s: %s", i, sidNote(st.Sid), st.Reason)})
	}
	if len(fix.KeptPublicRead) > 0 {
		// Not a finding: an approved bucket that serves public reads is as
		// approved. The exemption records it, and every alert shows it.
		pl.Exemption.Used = true
		pl.Exemption.KeptStatements = fix.KeptPublicRead
		if pl.Exemption.Status != Approved {
			pl.Unresolved = append(pl.Unresolved, fmt.Sprintf("public-read statement(s) %s kept while the approval is unknown", ints(fix.KeptPublicRead)))
		}
	}
}

// tlsDecision is what the policy fix does about the TLS-only statement.
type tlsDecision struct {
	missing bool   // required and absent: a finding, and added unless skipped
	skipped string // why it is not added
	exempt  bool   // a website keeps it out
}

// tlsPlan decides the TLS-only statement, once: the website's exemption
// and the policy's size limit are its only reasons not to add it.
func (pl *planner) tlsPlan(doc *policy.Document, exempt, tooBig string) tlsDecision {
	hasTLS := doc.RequiresTLS(pl.p.Partition(), pl.p.Bucket)
	if pl.p.Website.State == posture.Set {
		pl.website(hasTLS)
	}
	d := tlsDecision{missing: pl.in.Config.RequireTLS && !hasTLS, skipped: tooBig}
	if exempt != "" && d.missing {
		d = tlsDecision{skipped: exempt, exempt: true}
	}
	if d.missing {
		pl.find(Finding{ID: TLSNotRequired, Severity: Medium, Setting: "policy",
			Summary: "no policy statement denies requests made without TLS (aws:SecureTransport = false)"})
	}
	return d
}

// policyActions turns the fix into the policy's actions and its one write.
func (pl *planner) policyActions(doc *policy.Document, fix policy.Fix, tls tlsDecision) {
	requireTLS := func() Action {
		return Action{Name: RequireTLS, Setting: "policy", Skipped: tls.skipped,
			Why: fmt.Sprintf("add Deny statement %q on aws:SecureTransport = false for the bucket and its objects", doc.FreeSid(policy.TLSSid))}
	}
	switch {
	case !fix.Changed() && tls.skipped == "":
		return
	case !fix.Changed():
		pl.act(nil, requireTLS()) // only the reason the TLS-only statement is not added
		return
	}
	before, after := "(no policy)", string(fix.Policy)
	if pl.p.Policy.State == posture.Set {
		before = pl.p.Policy.Value
	}
	if fix.Empty {
		after = "(no policy)"
	}
	var actions []Action
	if len(fix.Dropped) > 0 {
		actions = append(actions, Action{Name: RemovePublicPolicyStatements, Setting: "policy",
			Why:    fmt.Sprintf("remove public statement(s) %s; %s", ints(fix.Dropped), keptNote(len(doc.Statements)-len(fix.Dropped))),
			Before: before, After: after})
	}
	if tls.missing || tls.exempt {
		a := requireTLS()
		if len(actions) == 0 {
			a.Before, a.After = before, after // shown once, on the first policy action
		}
		actions = append(actions, a)
	}
	pl.act(policyStep(doc, fix), actions...)
}

// policyDocument parses the bucket policy, or reports why it cannot be
// judged (nil). An absent policy is an empty document. A policy that cannot
// be judged, unless AWS says it is not public, leaves the bucket short of
// remediated.
func (pl *planner) policyDocument() *policy.Document {
	pf := pl.p.Policy
	switch pf.State {
	case posture.Absent:
		return policy.New()
	case posture.Set:
		d, err := policy.Parse([]byte(pf.Value))
		if err == nil {
			return d
		}
		pl.find(Finding{ID: PolicyUnparseable, Severity: High, Setting: "policy",
			Summary: fmt.Sprintf("the bucket policy could not be read (%v); it is left as it is and Block Public Access is relied on", err)})
	case posture.Failed:
		pl.unreadable(PolicyUnreadable, "policy", "bucket policy", pf)
		if pf.Denied() {
			// Refused: what bucketguard cannot see may be public. Fail
			// closed on what deletes nothing.
			pl.failClosed = true
		}
	default:
		return nil
	}
	if ps := pl.p.PolicyStatus; !(ps.State == posture.Set && !ps.Value) {
		pl.Unresolved = append(pl.Unresolved, "the bucket policy could not be judged")
	}
	return nil
}

// policyStep is the one write a policy fix needs, with the statements it
// must keep, or nil when nothing changes.
func policyStep(doc *policy.Document, fix policy.Fix) *Step {
	if !fix.Changed() {
		return nil
	}
	if fix.Empty {
		return &Step{Op: op.DeleteBucketPolicy, DeletePolicy: true}
	}
	step := &Step{Op: op.PutBucketPolicy, Policy: string(fix.Policy)}
	drop := map[int]bool{}
	for _, i := range fix.Dropped {
		drop[i] = true
	}
	for _, s := range doc.Statements {
		if !drop[s.Index] {
			c, _ := policy.Canonical(s.Raw)
			step.KeptStatements = append(step.KeptStatements, c)
		}
	}
	return step
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
	if ps.State != posture.Set || ps.Value == r.Public {
		return
	}
	if ps.Value {
		pl.find(Finding{ID: AWSJudgesPolicyPublic, Severity: High, Setting: "policy",
			Summary: "AWS (GetBucketPolicyStatus) judges the bucket policy public, but bucketguard finds no public statement: Block Public Access restricts it; review the policy by hand"})
	}
	pl.Notes = append(pl.Notes, fmt.Sprintf("cross-check: AWS says the policy is public=%v, bucketguard says public=%v", ps.Value, r.Public))
}

func (pl *planner) bucketBPA() {
	f := pl.p.BucketBPA
	want := posture.AllOn
	if pl.keepPublicRead {
		// Public read may stay in the policy: block and ignore public ACLs,
		// leave the policy settings as they are (never loosen them). When
		// the approval could not be read, RestrictPublicBuckets too.
		want = posture.BPA{BlockPublicAcls: true, IgnorePublicAcls: true, RestrictPublicBuckets: pl.failClosed}
	}
	var cur posture.BPA
	switch f.State {
	case posture.Set:
		cur = f.Value
	case posture.Absent:
	case posture.Failed:
		// All four on can only tighten whatever is there; anything less
		// could loosen what cannot be seen.
		summary := fmt.Sprintf("could not read the bucket's Block Public Access (%s); all four settings are set regardless", f.Error)
		if want != posture.AllOn {
			summary = fmt.Sprintf("could not read the bucket Block Public Access (%s); it was not judged and is left as it is", f.Error)
		}
		pl.find(Finding{ID: BPAUnreadable, Severity: High, Setting: "bpa", Summary: summary})
		if want != posture.AllOn {
			return
		}
		pl.act(&Step{Op: op.PutPublicAccessBlock, BPA: &want}, Action{Name: BlockPublicAccess, Setting: "bpa",
			Why: "turn on all four Block Public Access settings", Before: "(unknown)", After: DescribeBPA(want)})
		return
	default:
		return
	}
	if cur.Covers(want) {
		return
	}
	if want != posture.AllOn && pl.Exemption.Status == Approved {
		pl.Exemption.Used = true // BPA shaped around the approval
	}
	target := cur.Or(want)
	pl.find(Finding{ID: BPAOff, Severity: Medium, Setting: "bpa", Summary: "the bucket's Block Public Access " + bpaState(f, want)})
	pl.act(&Step{Op: op.PutPublicAccessBlock, BPA: &target}, Action{Name: BlockPublicAccess, Setting: "bpa",
		Why: "turn on " + strings.Join(cur.Off(want), ", "), Before: DescribeBPAFact(f), After: DescribeBPA(target)})
}

// aclFiltered reports whether the ACL was read with IgnorePublicAcls in
// force, bucket or account: S3 then returns only the grants it enforces.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html
func (pl *planner) aclFiltered() bool {
	return (pl.p.BucketBPA.State == posture.Set && pl.p.BucketBPA.Value.IgnorePublicAcls) ||
		(pl.p.AccountBPA.State == posture.Set && pl.p.AccountBPA.Value.IgnorePublicAcls)
}

func (pl *planner) aclPlanned() bool {
	for _, a := range pl.Actions {
		if a.Name == RemovePublicACLGrants {
			return true
		}
	}
	return false
}

// websiteNoTLS says why a website bucket gets no TLS-only statement.
const websiteNoTLS = "the bucket serves a static website: S3 website endpoints do not support HTTPS, so a TLS-only Deny would refuse every request to the site"

// website judges a bucket with a website configuration. Its endpoint serves
// anonymous HTTP requests only: for an approved bucket, a TLS-only Deny
// takes the site down (reported, never removed: bucketguard does not edit a
// statement that grants nothing); for a bucket that is not approved, Block
// Public Access keeps the site unreachable, which its website event is told.
func (pl *planner) website(hasTLS bool) {
	approved := pl.Exemption != nil && pl.Exemption.Status == Approved
	cfg := pl.in.Config
	switch {
	case approved && hasTLS:
		pl.find(Finding{ID: WebsiteBlockedByTLS, Severity: Medium, Setting: "policy",
			Summary: "the approved website is refused: a policy statement denies requests made without TLS, and S3 website endpoints serve HTTP only. " +
				"Remove that statement (bucketguard does not add one to a website bucket), or serve the site through CloudFront from the bucket's REST endpoint over HTTPS"})
	case !approved && pl.in.Event == events.PutBucketWebsite:
		pl.find(Finding{ID: WebsiteNotApproved, Severity: Low, Setting: "website",
			Summary: fmt.Sprintf("%s turned on static website hosting, but the bucket is not approved for public read: Block Public Access keeps it private, so the site will not be reachable. "+
				"To publish it, tag the bucket %s=true (and optionally %s=<RFC 3339 time>); public read is then kept, public write never",
				orUnknown(pl.in.Actor), cfg.ApprovalTagKey, cfg.ApprovalUntilTagKey)})
	}
}

// delegation tells a bucket policy that delegates access to another
// account's access points: not public by AWS's rules, but out of
// bucketguard's sight. A note on every evaluation; a finding on the policy
// change that made it.
func (pl *planner) delegation(doc *policy.Document) {
	accts := doc.DelegatedAccounts(pl.p.Account)
	if len(accts) == 0 {
		return
	}
	what := fmt.Sprintf("the bucket policy delegates access to the access points of account(s) %s: their policies decide who gets in, and bucketguard cannot see them from this account", strings.Join(accts, ", "))
	pl.Notes = append(pl.Notes, what)
	if pl.in.Event == events.PutBucketPolicy {
		pl.find(Finding{ID: DelegatesToForeignAccessPoints, Severity: Low, Setting: "policy", Summary: what + "; make sure that account runs bucketguard too"})
	}
}
