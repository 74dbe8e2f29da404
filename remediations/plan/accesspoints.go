package plan

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/policy"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// Access points: a bucket's, and the account-level Object Lambda and
// Multi-Region ones. Their policies are judged by the same meaning of
// "public" (with the access point rules, policy.Document.ForAccessPoint) and
// their public statements removed as a bucket's are. An approval never
// covers an access point: an approved bucket serves public reads through its
// own bucket policy only.

func (pl *planner) accessPoints() {
	f := pl.p.AccessPoints
	switch f.State {
	case posture.Failed:
		pl.unreadable(AccessPointsUnlisted, "access-points", "list of access points", errFact(f))
		pl.Unresolved = append(pl.Unresolved, "the bucket's access points could not be listed, so none was judged")
	case posture.Set:
		for _, ap := range f.Value {
			pl.accessPoint(ap)
		}
		if pl.p.AccessPointsCapped {
			pl.find(Finding{ID: AccessPointsCapped, Severity: High, Setting: "access-points",
				Summary: fmt.Sprintf("the bucket has more than %d access points; only the first %d were judged", len(f.Value), len(f.Value))})
			pl.Unresolved = append(pl.Unresolved, fmt.Sprintf("access points beyond the first %d were not judged", len(f.Value)))
		}
	}
}

// accessPointsRefused reports whether an access point read that decides
// public access was refused for good (AccessDenied): the listing, or a
// policy of an access point reachable from the internet. What bucketguard
// cannot see may be public, so the bucket's Block Public Access fails
// closed on what deletes nothing (RestrictPublicBuckets also covers
// requests through the bucket's access points).
func (pl *planner) accessPointsRefused() bool {
	f := pl.p.AccessPoints
	if f.Denied() {
		return true
	}
	for _, ap := range f.Value {
		if ap.NetworkOrigin != posture.VPC && ap.Kind == posture.BucketAccessPoint && ap.Policy.Denied() {
			return true
		}
	}
	return false
}

func (pl *planner) accessPoint(ap posture.AccessPoint) {
	if ap.NetworkOrigin == posture.VPC {
		return // "always considered non-public, regardless of the contents of its access point policy"
	}
	setting := "access-point"
	var doc *policy.Document
	switch pf := ap.Policy; pf.State {
	case posture.Failed:
		pl.find(Finding{ID: AccessPointPolicyUnreadable, Severity: High, Setting: setting, AccessPoint: ap.Name,
			Summary: fmt.Sprintf("could not read the policy of %s (%s); it was not judged and is left as it is", ap.AccessPointRef, pf.Error)})
		pl.Unresolved = append(pl.Unresolved, fmt.Sprintf("the policy of %s could not be judged", ap.AccessPointRef))
		return
	case posture.Set:
		d, err := policy.Parse([]byte(pf.Value))
		if err != nil {
			pl.find(Finding{ID: AccessPointPolicyUnparseable, Severity: High, Setting: setting, AccessPoint: ap.Name,
				Summary: fmt.Sprintf("the policy of %s could not be read (%v); it is left as it is", ap.AccessPointRef, err)})
			return
		}
		doc = d.ForAccessPoint()
	default:
		return
	}
	report := policy.Judge(doc)
	if ps := ap.PolicyStatus; ps.State == posture.Set && ps.Value && !report.Public {
		pl.find(Finding{ID: AWSJudgesAccessPointPublic, Severity: High, Setting: setting, AccessPoint: ap.Name,
			Summary: fmt.Sprintf("AWS judges the policy of %s public, but bucketguard finds no public statement: review it by hand", ap.AccessPointRef)})
		pl.Unresolved = append(pl.Unresolved, fmt.Sprintf("AWS judges the policy of %s public", ap.AccessPointRef))
	}
	fix := doc.Fix(policy.FixOptions{})
	if len(fix.Dropped) == 0 {
		return
	}
	restricted := pl.restrictedBy(ap)
	for _, i := range fix.Dropped {
		st := report.Statements[i]
		sev, note := publicSeverity(st.Write), ""
		if restricted != "" {
			sev, note = Medium, "; RestrictPublicBuckets on "+restricted+" blocks it for now"
		}
		pl.find(Finding{ID: PublicAccessPointStatement, Severity: sev, Setting: setting, Statement: ptr(i), AccessPoint: ap.Name,
			Summary: fmt.Sprintf("%s, statement %d%s: %s%s", ap.AccessPointRef, i, sidNote(st.Sid), st.Reason, note)})
	}
	step, after := pl.accessPointStep(ap, doc, fix)
	a := Action{Name: RemovePublicAccessPointStatements, Setting: setting,
		Why:    fmt.Sprintf("remove public statement(s) %s of %s; %s", ints(fix.Dropped), ap.AccessPointRef, keptNote(len(doc.Statements)-len(fix.Dropped))),
		Before: ap.Policy.Value, After: after}
	if step == nil {
		a.Skipped, a.After = "the Multi-Region Access Point's alias could not be read, and its emptied policy must name it", ""
		pl.Unresolved = append(pl.Unresolved, fmt.Sprintf("the public statements of %s remain", ap.AccessPointRef))
	}
	pl.act(step, a)
}

// restrictedBy names the Block Public Access level whose
// RestrictPublicBuckets keeps the access point's public policy from
// granting anything for now ("" when none does): S3 applies the most
// restrictive combination of the access point's, the bucket's and the
// account's settings.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-points-bpa-settings.html
func (pl *planner) restrictedBy(ap posture.AccessPoint) string {
	var levels []string
	if ap.BPA.State == posture.Set && ap.BPA.Value.RestrictPublicBuckets {
		levels = append(levels, "the access point")
	}
	if ap.Kind == posture.BucketAccessPoint && pl.p.BucketBPA.State == posture.Set && pl.p.BucketBPA.Value.RestrictPublicBuckets {
		levels = append(levels, "the bucket")
	}
	if pl.p.AccountBPA.State == posture.Set && pl.p.AccountBPA.Value.RestrictPublicBuckets {
		levels = append(levels, "the account")
	}
	return strings.Join(levels, " and ")
}

// accessPointStep is the one write that fixes an access point's policy. A
// Multi-Region Access Point's policy cannot be deleted: emptied, it gets a
// Deny of plain-HTTP requests, which grants nothing and refuses nothing a
// legitimate caller sends.
func (pl *planner) accessPointStep(ap posture.AccessPoint, doc *policy.Document, fix policy.Fix) (*Step, string) {
	drop := map[int]bool{}
	for _, i := range fix.Dropped {
		drop[i] = true
	}
	var kept []string
	for _, s := range doc.Statements {
		if !drop[s.Index] {
			c, _ := policy.Canonical(s.Raw)
			kept = append(kept, c)
		}
	}
	ref := ap
	step := &Step{AccessPoint: &ref, KeptStatements: kept}
	switch {
	case !fix.Empty && ap.Kind == posture.ObjectLambdaAccessPoint:
		step.Op, step.Policy = op.PutAccessPointPolicyForObjectLambda, string(fix.Policy)
	case ap.Kind == posture.ObjectLambdaAccessPoint:
		step.Op, step.DeletePolicy = op.DeleteAccessPointPolicyForObjectLambda, true
	case ap.Kind == posture.MultiRegionAccessPoint:
		step.Op, step.Policy = op.PutMultiRegionAccessPointPolicy, string(fix.Policy)
		if fix.Empty {
			if ap.Alias == "" {
				return nil, ""
			}
			step.Policy = multiRegionPlaceholder(pl.p.Partition(), pl.p.Account, ap.Alias)
			step.KeptStatements = nil
		}
	case !fix.Empty:
		step.Op, step.Policy = op.PutAccessPointPolicy, string(fix.Policy)
	default:
		step.Op, step.DeletePolicy = op.DeleteAccessPointPolicy, true
	}
	after := step.Policy
	if step.DeletePolicy {
		after = "(no policy)"
	}
	return step, after
}

// MultiRegionPlaceholderSid names the statement an emptied Multi-Region
// Access Point policy keeps.
const MultiRegionPlaceholderSid = "BucketGuardDenyInsecureTransport"

func multiRegionPlaceholder(partition, account, alias string) string {
	arn := fmt.Sprintf("arn:%s:s3::%s:accesspoint/%s", partition, account, alias)
	doc := map[string]any{"Version": policy.Version, "Statement": []any{map[string]any{
		"Sid": MultiRegionPlaceholderSid, "Effect": "Deny", "Principal": "*", "Action": "s3:*",
		"Resource": []string{arn, arn + "/object/*"}, "Condition": map[string]any{"Bool": map[string]string{"aws:SecureTransport": "false"}},
	}}}
	b, _ := json.Marshal(doc) // plain data: cannot fail
	return string(b)
}
