package plan

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// The public-read approval: a tag (value "true") and an optional RFC 3339
// expiry tag. Anyone who can tag a bucket can approve it, so every change
// of the approval, by whatever call, is told, naming who made it; and every
// change to an approved bucket's public surface is told, listing what is
// public, though nothing is removed.

// ApprovalTags is the raw value of the approval and expiry tags ("" when
// absent), as recorded.
type ApprovalTags struct {
	Value string `json:"value,omitempty"`
	Until string `json:"until,omitempty"`
}

// approved reports whether the state approves (the value is "true").
func (a ApprovalTags) approved() bool { return strings.EqualFold(strings.TrimSpace(a.Value), "true") }

func (a ApprovalTags) String() string {
	switch {
	case !a.approved():
		return "not approved"
	case a.Until != "":
		return "approved until " + a.Until
	}
	return "approved with no expiry"
}

// approval reads the approval tags. An expired or unreadable expiry counts as
// no approval; tags that cannot be read at all leave public read alone (its
// judgement depends on them) and fail closed on what deletes nothing.
func (pl *planner) approval() {
	cfg := pl.in.Config
	tags := pl.p.Tags
	if tags.State == posture.Failed {
		// Whether public read is approved is unknown. Fail closed on what
		// deletes nothing: the public-read statements stay, and
		// RestrictPublicBuckets (reversible) stops them granting anything
		// until the tags can be read.
		pl.keepPublicRead, pl.failClosed = true, true
		pl.Exemption = &Exemption{Tag: cfg.ApprovalTagKey, Status: Unknown}
		pl.find(Finding{ID: TagsUnreadable, Severity: High, Setting: "tags",
			Summary: fmt.Sprintf("could not read the bucket's tags (%s), so whether public read is approved is unknown: "+
				"public-read statements are kept, RestrictPublicBuckets stops them granting anything until the tags can be read, everything else is enforced", tags.Error)})
		return
	}
	now := ApprovalTags{Value: tags.Value[cfg.ApprovalTagKey], Until: tags.Value[cfg.ApprovalUntilTagKey]}
	pl.approvalChange(now)
	if !now.approved() {
		return
	}
	ex := &Exemption{Tag: cfg.ApprovalTagKey, Status: Approved}
	pl.Exemption = ex
	if until, ok := tags.Value[cfg.ApprovalUntilTagKey]; ok {
		t, err := time.Parse(time.RFC3339, strings.TrimSpace(until))
		switch {
		case err != nil:
			ex.Status = Invalid
			pl.find(Finding{ID: ApprovalInvalid, Severity: Medium, Setting: "tags",
				Summary: fmt.Sprintf("tag %s=%q is not an RFC 3339 time, so the public-read approval is not honoured", cfg.ApprovalUntilTagKey, until)})
			return
		case !t.After(pl.in.Now):
			ex.Status, ex.Until = Expired, &t
			pl.find(Finding{ID: ApprovalExpired, Severity: Medium, Setting: "tags",
				Summary: fmt.Sprintf("the public-read approval expired at %s and is enforced as if absent", t.UTC().Format(time.RFC3339))})
			return
		default:
			ex.Until = &t
		}
	}
	pl.keepPublicRead = true
}

// approvalChange tells a change of the approval made by the triggering call
// (one that can change tags): against the last recorded approval when a
// ledger keeps them, else from what the request asked for.
func (pl *planner) approvalChange(now ApprovalTags) {
	in, key, untilKey := pl.in, pl.in.Config.ApprovalTagKey, pl.in.Config.ApprovalUntilTagKey
	if !in.Event.ChangesTags() {
		return
	}
	var before *ApprovalTags
	switch {
	case in.ApprovalsRecorded && in.PriorApproval != nil:
		before = in.PriorApproval
	case in.ApprovalsRecorded:
		before = &ApprovalTags{} // never recorded: as if never approved
	default:
		// No record: the request says what it set or removed. A call that
		// may have dropped the tag among others (DeleteBucketTagging, a
		// PutBucketTagging without it) is not told as a removal: nothing
		// says the bucket was ever approved, and without the approval its
		// public read is enforced, and told, anyway.
		_, set := in.RequestTags[key]
		_, setUntil := in.RequestTags[untilKey]
		removedUntil := slices.Contains(in.RemovedTags, untilKey)
		switch {
		case in.Event == events.CreateBucket:
			before = &ApprovalTags{} // a new bucket had no approval
		case set || (in.Event == events.PutBucketTagging && in.RequestTags == nil && now.approved()):
			before = &ApprovalTags{Value: "(unknown)"}
		case slices.Contains(in.RemovedTags, key) && !now.approved():
			before = &ApprovalTags{Value: "true"} // the caller named the tag
		case (setUntil || removedUntil) && now.approved():
			// Only the expiry changed: an expired approval revived, or a
			// time-limited one made permanent.
			before = &ApprovalTags{Value: now.Value, Until: "(unknown)"}
		default:
			return
		}
	}
	if *before == now {
		return
	}
	if in.ApprovalsRecorded {
		rec := now
		pl.RecordApproval = &rec
	}
	who := orUnknown(in.Actor)
	f := Finding{Severity: Info, Setting: "tags"}
	switch {
	case now.approved() && !before.approved():
		f.ID, f.Summary = ApprovalGranted, fmt.Sprintf("public read approved by %s with %s: %s (tag %s)", who, in.Event, now, key)
	case now.approved():
		f.ID, f.Summary = ApprovalChanged, fmt.Sprintf("public-read approval changed by %s with %s: %s, was %s (tag %s)", who, in.Event, now, *before, key)
	default:
		f.ID, f.Summary = ApprovalRemoved, fmt.Sprintf("public-read approval removed by %s with %s (tag %s): public read is enforced from now on", who, in.Event, key)
	}
	pl.find(f)
}

// approvedSurface tells, for a call that changed an approved bucket's
// policy or Block Public Access, what the bucket now serves publicly:
// nothing is removed (the approval covers public read), but the owner sees
// every change of what is exposed.
func (pl *planner) approvedSurface() {
	x := pl.Exemption
	if x == nil || x.Status != Approved || !pl.in.Event.ChangesPublicSurface() {
		return
	}
	var parts []string
	if len(x.KeptStatements) > 0 {
		parts = append(parts, fmt.Sprintf("policy statement(s) %s grant public read", ints(x.KeptStatements)))
	}
	if b := pl.p.BucketBPA; b.State != posture.Set || !b.Value.BlockPublicPolicy || !b.Value.RestrictPublicBuckets {
		off := posture.AllOn
		if b.State == posture.Set {
			off = posture.BPA{BlockPublicPolicy: !b.Value.BlockPublicPolicy, RestrictPublicBuckets: !b.Value.RestrictPublicBuckets}
		}
		var names []string
		if off.BlockPublicPolicy {
			names = append(names, "BlockPublicPolicy")
		}
		if off.RestrictPublicBuckets {
			names = append(names, "RestrictPublicBuckets")
		}
		parts = append(parts, "Block Public Access has "+strings.Join(names, " and ")+" off, so new public-read statements take effect")
	}
	if len(parts) == 0 {
		return
	}
	pl.find(Finding{ID: ApprovedSurface, Severity: Medium, Setting: "policy",
		Summary: fmt.Sprintf("%s changed an approved bucket's public surface; now public: %s (kept: the approval covers public read)",
			orUnknown(pl.in.Actor)+" with "+string(pl.in.Event), strings.Join(parts, "; "))})
}
