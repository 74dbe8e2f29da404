// Package undo plans putting back what bucketguard changed on a bucket in
// one incident, from the record kept when it was told (ledger.Undo). It is
// pure: the CLI reads, asks it, and writes.
//
// What it puts back, and only where the bucket still holds what bucketguard
// wrote: the bucket policy as it was, less any statement that grants public
// write (an approval never covers write), and the two Block Public Access
// settings that decide whether a policy may grant public access
// (BlockPublicPolicy, RestrictPublicBuckets). The approval tag, with the
// expiry the operator gives, is set first, so that the restored public read
// is not fixed again. What it does not put back, and says so: public ACL
// grants (the approval covers a policy's read), a weaker default
// encryption, access point policies (an approval never covers an access
// point), and the other controls.
package undo

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bucketguard/bucketguard/remediations/plan"
	"github.com/bucketguard/bucketguard/remediations/policy"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// Record is what bucketguard changed on a bucket in one incident.
type Record struct {
	Incident string    `json:"incident"`
	At       time.Time `json:"at"`
	Actor    string    `json:"actor,omitempty"`
	// Actions are the bucket's own fixes that were written, with each
	// setting before and after.
	Actions []plan.Action `json:"actions"`
	// AccessPoints counts the access point policies fixed (never put back).
	AccessPoints int `json:"access_points,omitempty"`
}

// RecordOf is the record of an evaluation's written fixes, or false when
// it wrote none on the bucket itself.
func RecordOf(incident, actor string, at time.Time, written []plan.Action) (Record, bool) {
	r := Record{Incident: incident, At: at.UTC(), Actor: actor}
	for _, a := range written {
		if a.AccessPoint != "" {
			r.AccessPoints++
			continue
		}
		r.Actions = append(r.Actions, a)
	}
	return r, len(r.Actions) > 0
}

// Step is one write of an undo.
type Step struct {
	// What names the setting.
	What string `json:"what"`
	// Policy is the policy to put back; DeletePolicy deletes it instead.
	Policy       string `json:"policy,omitempty"`
	DeletePolicy bool   `json:"delete_policy,omitempty"`
	// BPA is the Block Public Access to put back.
	BPA *posture.BPA `json:"bpa,omitempty"`
	// Detail says what changes, for a person.
	Detail string `json:"detail"`
}

// Plan is an undo: the tags to set first, then the steps; or refused.
type Plan struct {
	Incident string `json:"incident"`
	// Tags are the bucket's tags with the approval and its expiry set.
	Tags  map[string]string `json:"tags,omitempty"`
	Steps []Step            `json:"steps"`
	// Left are the changes of the incident not put back, and why.
	Left []string `json:"left,omitempty"`
	// Refused says why nothing is written: the bucket no longer holds
	// what bucketguard wrote.
	Refused []string `json:"refused,omitempty"`
}

// Input is what an undo is planned from.
type Input struct {
	Record Record
	// Now is the bucket as it is now: its policy, Block Public Access and
	// tags must be known.
	Now              posture.Posture
	Until            time.Time
	ApprovalTag      string
	ApprovalUntilTag string
}

// New plans the undo of the record on the bucket as it is now.
func New(in Input) Plan {
	p := Plan{Incident: in.Record.Incident, Steps: []Step{}}
	now := in.Now
	if !now.Policy.Known() || !now.BucketBPA.Known() || !now.Tags.Known() {
		p.Refused = append(p.Refused, "the bucket's policy, Block Public Access or tags could not be read")
		return p
	}
	policyDone := false
	if n := in.Record.AccessPoints; n > 0 {
		p.Left = append(p.Left, fmt.Sprintf("%d access point policies: an approval never covers an access point", n))
	}
	for _, a := range in.Record.Actions {
		switch {
		case a.Name == plan.RemovePublicPolicyStatements || a.Name == plan.RequireTLS:
			if policyDone || a.After == "" {
				continue // the policy's one write, shown on its first action
			}
			policyDone = true
			p.policy(a, now.Policy)
		case a.Name == plan.BlockPublicAccess:
			p.bpa(a, now.BucketBPA)
		case a.Name == plan.RemovePublicACLGrants:
			p.Left = append(p.Left, "the public ACL grants: an approval covers public read through the policy only")
		case a.Name == plan.RestoreDefaultEncryption:
			p.Left = append(p.Left, "the default encryption: bucketguard never puts back a weaker one")
		default:
			p.Left = append(p.Left, fmt.Sprintf("%s: not a public-read setting", a.Name))
		}
	}
	if len(p.Refused) > 0 {
		p.Steps = []Step{}
		return p
	}
	if len(p.Steps) == 0 {
		p.Refused = append(p.Refused, "nothing in this incident can be put back")
		return p
	}
	// Block Public Access first: BlockPublicPolicy refuses a public
	// policy while it is on.
	slices.SortStableFunc(p.Steps, func(a, b Step) int {
		return boolRank(b.BPA != nil) - boolRank(a.BPA != nil)
	})
	p.Tags = map[string]string{}
	for k, v := range now.Tags.Value {
		p.Tags[k] = v
	}
	p.Tags[in.ApprovalTag] = "true"
	p.Tags[in.ApprovalUntilTag] = in.Until.UTC().Format(time.RFC3339)
	return p
}

// policy puts back the policy as it was, less public write, where the
// bucket still holds the policy bucketguard wrote.
func (p *Plan) policy(a plan.Action, now posture.Fact[string]) {
	if clipped(a.Before) || clipped(a.After) {
		p.Refused = append(p.Refused, "the bucket policy as it was is not in the record whole (it was shortened to fit)")
		return
	}
	if !samePolicy(a.After, now) {
		p.Refused = append(p.Refused, "the bucket policy changed since bucketguard wrote it")
		return
	}
	if a.Before == "(no policy)" {
		p.Steps = append(p.Steps, Step{What: "bucket policy", DeletePolicy: true, Detail: "delete the policy bucketguard wrote: the bucket had none"})
		return
	}
	d, err := policy.Parse([]byte(a.Before))
	if err != nil {
		p.Refused = append(p.Refused, fmt.Sprintf("the bucket policy as it was cannot be read (%v)", err))
		return
	}
	fix := d.Fix(policy.FixOptions{KeepPublicRead: true})
	doc, detail := a.Before, "put back the policy as it was"
	switch {
	case fix.Empty:
		p.Steps = append(p.Steps, Step{What: "bucket policy", DeletePolicy: true,
			Detail: "delete the policy bucketguard wrote: the policy as it was granted only public write, which is never put back"})
		return
	case len(fix.Dropped) > 0:
		doc = string(fix.Policy)
		detail = fmt.Sprintf("put back the policy as it was, less statement(s) %v, which grant public write: never put back", fix.Dropped)
	}
	p.Steps = append(p.Steps, Step{What: "bucket policy", Policy: doc, Detail: detail})
}

// bpa puts back BlockPublicPolicy and RestrictPublicBuckets as they were,
// where the bucket still holds what bucketguard wrote. The two ACL
// settings stay as they are: no ACL grant is put back.
func (p *Plan) bpa(a plan.Action, now posture.Fact[posture.BPA]) {
	if plan.DescribeBPAFact(now) != a.After {
		p.Refused = append(p.Refused, fmt.Sprintf("Block Public Access changed since bucketguard wrote it (now %s)", plan.DescribeBPAFact(now)))
		return
	}
	before, ok := plan.ParseBPA(a.Before)
	if !ok {
		p.Refused = append(p.Refused, fmt.Sprintf("Block Public Access as it was (%q) is not known", a.Before))
		return
	}
	want := now.Value
	want.BlockPublicPolicy, want.RestrictPublicBuckets = before.BlockPublicPolicy, before.RestrictPublicBuckets
	if want == now.Value {
		return
	}
	p.Steps = append(p.Steps, Step{What: "Block Public Access", BPA: &want,
		Detail: fmt.Sprintf("put back BlockPublicPolicy=%v RestrictPublicBuckets=%v; BlockPublicAcls and IgnorePublicAcls stay as they are", want.BlockPublicPolicy, want.RestrictPublicBuckets)})
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

func clipped(s string) bool {
	return strings.Contains(s, "... [journal:") || strings.Contains(s, "... [truncated:")
}

// samePolicy reports whether the bucket holds the policy written (compared
// in canonical form: S3 may re-space a policy).
func samePolicy(written string, now posture.Fact[string]) bool {
	if written == "(no policy)" {
		return now.State == posture.Absent
	}
	if now.State != posture.Set {
		return false
	}
	a, errA := policy.Canonical([]byte(written))
	b, errB := policy.Canonical([]byte(now.Value))
	return errA == nil && errB == nil && a == b
}
