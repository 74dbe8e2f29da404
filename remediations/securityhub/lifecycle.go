// Package securityhub keeps what bucketguard knows of every target it judged
// as AWS Security Hub findings (ASFF), in the account's own product: one
// finding per bucket or access point and kind of exposure, with a
// deterministic Id, so that each evaluation's import replaces the last.
//
// The lifecycle is driven from the evaluation's result alone, never from
// GetFindings (eventually consistent: a finding read back may be stale or
// missing):
//
//	found public              → Compliance FAILED, workflow NEW
//	fixed and verified        → PASSED, RESOLVED, a note naming what was done
//	approved public read      → WARNING, SUPPRESSED, "approved by <who> until <when>"
//	approval expired, public  → FAILED, NEW
//	notify mode               → FAILED, NEW until the owner fixes it
//	bucket gone               → RecordState ARCHIVED
//	nothing public            → PASSED
//
// BatchImportFindings sets Workflow and Note only when it creates a finding;
// after that they change only through BatchUpdateFindings, which is sent
// only when the evaluation itself saw the change (a fix it verified, an
// approval granted or expired, a change that closed the exposure), so that
// a re-import never overwrites an analyst's workflow.
// https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchImportFindings.html
// https://docs.aws.amazon.com/securityhub/latest/userguide/finding-workflow-status.html
package securityhub

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/plan"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// Kind is a kind of exposure: one finding per target and kind.
type Kind string

// The kinds of exposure.
const (
	PublicPolicy      Kind = "public-policy"
	PublicACL         Kind = "public-acl"
	PublicAccessPoint Kind = "public-access-point-policy"
)

// kindOf says which findings are a kind's exposure, which leave it unjudged,
// and which fix closes it.
var kindOf = map[Kind]struct {
	public, unread []plan.FindingID
	fix            plan.ActionName
	title          string
}{
	PublicPolicy: {[]plan.FindingID{plan.PublicPolicyStatement, plan.AWSJudgesPolicyPublic},
		[]plan.FindingID{plan.PolicyUnreadable, plan.PolicyUnparseable}, plan.RemovePublicPolicyStatements, "bucket policy grants public access"},
	PublicACL: {[]plan.FindingID{plan.PublicACLGrant},
		[]plan.FindingID{plan.ACLUnreadable}, plan.RemovePublicACLGrants, "ACL grants public access"},
	PublicAccessPoint: {[]plan.FindingID{plan.PublicAccessPointStatement, plan.AWSJudgesAccessPointPublic},
		[]plan.FindingID{plan.AccessPointPolicyUnreadable, plan.AccessPointPolicyUnparseable}, plan.RemovePublicAccessPointStatements, "access point policy grants public access"},
}

// State is what bucketguard knows of one exposure after an evaluation.
type State string

// The states.
const (
	Public   State = "public"   // found public and still so (notify mode, a fix that did not land)
	Fixed    State = "fixed"    // found public, fixed and read back
	Approved State = "approved" // public read kept by a valid approval
	Expired  State = "expired"  // the approval expired and the exposure remains
	Clean    State = "clean"    // nothing public
	Unjudged State = "unjudged" // the setting could not be read or parsed
	Gone     State = "gone"     // the bucket no longer exists
)

// Record is one exposure of one target as an evaluation left it.
type Record struct {
	Target posture.Target
	// AccessPoint names a bucket's access point (PublicAccessPoint); an
	// account-level access point is the Target's own.
	AccessPoint string
	Kind        Kind
	State       State
	Severity    plan.Severity
	// Summaries are the findings' own words.
	Summaries []string
	// Note says what happened, for the finding's note.
	Note string
	// Changed says that this evaluation saw the state change (a fix it
	// verified, an approval granted or expired, a change that closed the
	// exposure): the finding's workflow is set to match.
	Changed bool
}

// Records are the exposures an evaluation knows of: each kind of the
// bucket, and each access point it read; an Object Lambda or Multi-Region
// Access Point's own. The account-level target (Block Public Access) has
// none, nor has a bucket's access point left unresolved.
func Records(res remediations.Result) []Record {
	t := res.Target
	switch {
	case t.AccessPoint != nil && t.AccessPoint.Kind == posture.BucketAccessPoint:
		// A bucket's access point is reported by its bucket's evaluation,
		// under the bucket's Id. A target that still names one was never
		// resolved to its bucket (not judged, or gone): nothing to say.
		return nil
	case t.AccessPoint != nil:
		return []Record{record(res, PublicAccessPoint, "")}
	case t.Bucket == "":
		return nil
	}
	out := []Record{record(res, PublicPolicy, ""), record(res, PublicACL, "")}
	for _, ap := range accessPoints(res) {
		out = append(out, record(res, PublicAccessPoint, ap))
	}
	return out
}

// accessPoints are the bucket's access points the evaluation knows of: those
// read, and those its findings name.
func accessPoints(res remediations.Result) []string {
	var names []string
	if res.Before != nil && res.Before.AccessPoints.State == posture.Set {
		for _, ap := range res.Before.AccessPoints.Value {
			names = append(names, ap.Name)
		}
	}
	for _, f := range res.Findings {
		if f.AccessPoint != "" && slices.Contains(kindOf[PublicAccessPoint].public, f.ID) {
			names = append(names, f.AccessPoint)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

func record(res remediations.Result, k Kind, ap string) Record {
	r := Record{Target: res.Target, AccessPoint: ap, Kind: k}
	if res.Status == contract.BucketGone {
		r.State, r.Severity, r.Note = Gone, plan.Info, "the bucket no longer exists"
		return r
	}
	spec := kindOf[k]
	var found, unread []plan.Finding
	for _, f := range res.Findings {
		if f.AccessPoint != ap && res.Target.AccessPoint == nil {
			continue
		}
		switch {
		case slices.Contains(spec.public, f.ID):
			found = append(found, f)
		case slices.Contains(spec.unread, f.ID):
			unread = append(unread, f)
		}
	}
	for _, f := range append(found, unread...) {
		r.Summaries = append(r.Summaries, f.Summary)
	}
	expired := has(res, plan.ApprovalExpired)
	switch {
	case len(found) > 0:
		r.Severity = plan.Worst(found)
		if a, ok := verified(res, spec.fix, ap); ok {
			r.State, r.Severity, r.Changed = Fixed, plan.Info, true
			r.Note = "fixed by bucketguard: " + describe(a)
			if expired {
				r.Note = "the public-read approval expired; " + r.Note
			}
			return r
		}
		r.State = Public
		if expired {
			r.State, r.Changed = Expired, true
			r.Note = "the public-read approval expired"
			if u := until(res.Exemption); u != "" {
				r.Note += " at " + u
			}
			r.Note += "; the exposure remains"
		} else if has(res, plan.ApprovalRemoved) {
			r.Changed, r.Note = true, "the public-read approval was removed; the exposure remains"
		}
		return r
	case len(unread) > 0:
		r.State, r.Severity = Unjudged, plan.Worst(unread)
		return r
	case k == PublicPolicy && approvedRead(res.Exemption):
		r.State, r.Severity = Approved, plan.Low
		r.Summaries = []string{fmt.Sprintf("policy statement(s) %v grant public read, kept by the approval", res.Exemption.KeptStatements)}
		r.Note = "approved by " + approver(res) + " until " + cmp.Or(until(res.Exemption), "no set time (no expiry)")
		r.Changed = has(res, plan.ApprovalGranted) || has(res, plan.ApprovalChanged) || has(res, plan.ApprovedSurface)
		return r
	}
	r.State, r.Severity = Clean, plan.Info
	if c := res.Trigger; c != nil && c.Name.ChangesPublicSurface() && res.Target.AccessPoint == nil {
		// The triggering change left nothing public: whoever made it
		// closed what an earlier evaluation may have found.
		r.Changed = true
		r.Note = fmt.Sprintf("nothing public after %s by %s", c.Name, orUnknown(c.Actor.String()))
	}
	return r
}

// approvedRead reports whether a valid approval kept public-read statements.
func approvedRead(x *plan.Exemption) bool {
	return x != nil && x.Status == plan.Approved && len(x.KeptStatements) > 0
}

// approver names who approved public read: the caller, when this
// evaluation's trigger granted or changed the approval; else the tag.
func approver(res remediations.Result) string {
	if c := res.Trigger; c != nil && (has(res, plan.ApprovalGranted) || has(res, plan.ApprovalChanged)) {
		return orUnknown(c.Actor.String())
	}
	return "the " + res.Exemption.Tag + " tag"
}

// until is the approval's expiry, or "" when it has none.
func until(x *plan.Exemption) string {
	if x == nil || x.Until == nil {
		return ""
	}
	return x.Until.UTC().Format(time.RFC3339)
}

func has(res remediations.Result, id plan.FindingID) bool {
	return slices.ContainsFunc(res.Findings, func(f plan.Finding) bool { return f.ID == id })
}

// verified returns the kind's fix when it was written and read back.
func verified(res remediations.Result, name plan.ActionName, ap string) (remediations.ActionResult, bool) {
	for _, a := range res.Actions {
		if a.Name == name && (a.AccessPoint == ap || res.Target.AccessPoint != nil) && a.Outcome == remediations.Verified {
			return a, true
		}
	}
	return remediations.ActionResult{}, false
}

func describe(a remediations.ActionResult) string {
	s := string(a.Name)
	if a.Why != "" {
		s += " (" + a.Why + ")"
	}
	return s + ", verified"
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown caller"
	}
	return s
}
