package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/bucketguard/bucketguard/remediations/alert"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/ledger"
	"github.com/bucketguard/bucketguard/remediations/posture"
	"github.com/bucketguard/bucketguard/remediations/read"
	"github.com/bucketguard/bucketguard/remediations/undo"
)

// TagWriter is the one tag call an undo makes, with the operator's
// credentials.
type TagWriter interface {
	PutBucketTagging(context.Context, *s3.PutBucketTaggingInput, ...func(*s3.Options)) (*s3.PutBucketTaggingOutput, error)
}

var _ TagWriter = (*s3.Client)(nil)

// UndoSchema names the JSON document of an undo notice.
const UndoSchema = "bucketguard.undo/v1"

// undoNotice is what the owner and the operations topic are told.
type undoNotice struct {
	Schema   string    `json:"schema"`
	Account  string    `json:"account"`
	Region   string    `json:"region"`
	Bucket   string    `json:"bucket"`
	Incident string    `json:"incident"`
	By       string    `json:"by"`
	Until    string    `json:"until"`
	Plan     undo.Plan `json:"plan"`
}

func undoCommand(ctx context.Context, c *cli, args []string) error {
	// `undo BUCKET --until T`: the bucket may come before the flags.
	if len(args) > 1 && !strings.HasPrefix(args[0], "-") {
		args = append(args[1:], args[0])
	}
	var incident, until string
	var dryRun, asJSON bool
	d, t, err := bucketCommand(ctx, c, "undo", args, func(fs *flag.FlagSet) {
		fs.StringVar(&incident, "incident", "", "the incident to undo (the latest on the bucket; refused if it is not)")
		fs.StringVar(&until, "until", "", "expiry of the approval set with the undo (RFC 3339; required)")
		fs.BoolVar(&dryRun, "dry-run", false, "print the plan; write and tell nothing")
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	})
	if err != nil {
		return err
	}
	expiry, err := time.Parse(time.RFC3339, until)
	switch {
	case until == "":
		return invalid("undo: --until is required: the restored public read is approved until then")
	case err != nil:
		return invalid("undo: --until %q is not an RFC 3339 time (2026-12-31T00:00:00Z)", until)
	case !expiry.After(d.Now()):
		return invalid("undo: --until %s is not in the future", until)
	}
	if d.Ledger == nil {
		return fmt.Errorf("undo needs the ledger table (%s): that is where what bucketguard changed is kept", config.EnvLedgerTable)
	}
	rec, err := d.Ledger.Undo(ctx, t.Account, t.Bucket)
	switch {
	case err != nil:
		return err
	case rec == nil:
		return fmt.Errorf("nothing to undo: no incident on %s is kept (they are kept %s)", t.Bucket, ledger.UndoTTL)
	case incident != "" && incident != rec.Incident:
		return fmt.Errorf("the latest incident on %s is %s, not %s: only the latest can be undone", t.Bucket, rec.Incident, incident)
	}
	now, err := read.Posture(ctx, read.Clients{S3: d.ForRegion(t.Region), Control: d.Control}, t,
		read.Needs{Bucket: true})
	if err != nil {
		return err
	}
	p := undo.New(undo.Input{Record: *rec, Now: now, Until: expiry, ApprovalTag: d.Config.ApprovalTagKey, ApprovalUntilTag: d.Config.ApprovalUntilTagKey})
	if err := showUndo(c, t, p, asJSON, d.Config); err != nil {
		return err
	}
	if len(p.Refused) > 0 {
		return fmt.Errorf("undo refused: %s", strings.Join(p.Refused, "; "))
	}
	if dryRun {
		return nil
	}
	if err := applyUndo(ctx, d, t, p); err != nil {
		return err
	}
	by, err := d.Caller(ctx)
	if err != nil {
		by = "(unknown: " + err.Error() + ")"
	}
	return tellUndo(ctx, c, d, t, undoNotice{Schema: UndoSchema, Account: t.Account, Region: t.Region, Bucket: t.Bucket,
		Incident: rec.Incident, By: by, Until: expiry.UTC().Format(time.RFC3339), Plan: p}, now.Tags.Value[d.Config.OwnerTagKey])
}

// applyUndo sets the approval first, so that the restored read is not
// fixed again, then writes each step.
func applyUndo(ctx context.Context, d *deps, t posture.Target, p undo.Plan) error {
	b, owner := aws.String(t.Bucket), aws.String(t.Account)
	tags := &types.Tagging{}
	for k, v := range p.Tags {
		tags.TagSet = append(tags.TagSet, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	if _, err := d.TagsFor(t.Region).PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: b, ExpectedBucketOwner: owner, Tagging: tags}); err != nil {
		return fmt.Errorf("undo: set the approval on %s: %w", t.Bucket, err)
	}
	c := d.ForRegion(t.Region)
	for _, st := range p.Steps {
		var err error
		switch {
		case st.DeletePolicy:
			_, err = c.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: b, ExpectedBucketOwner: owner})
		case st.Policy != "":
			_, err = c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: b, ExpectedBucketOwner: owner, Policy: aws.String(st.Policy)})
		case st.BPA != nil:
			_, err = c.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: b, ExpectedBucketOwner: owner,
				PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{
					BlockPublicAcls: aws.Bool(st.BPA.BlockPublicAcls), IgnorePublicAcls: aws.Bool(st.BPA.IgnorePublicAcls),
					BlockPublicPolicy: aws.Bool(st.BPA.BlockPublicPolicy), RestrictPublicBuckets: aws.Bool(st.BPA.RestrictPublicBuckets)}})
		}
		if err != nil {
			return fmt.Errorf("undo: %s of %s: %w", st.What, t.Bucket, err)
		}
	}
	return nil
}

// tellUndo tells the owner (the alert topic) and the operations topic who
// undid what.
func tellUndo(ctx context.Context, c *cli, d *deps, t posture.Target, n undoNotice, owner string) error {
	js, _ := json.Marshal(n) // plain data: cannot fail
	var b strings.Builder
	fmt.Fprintf(&b, "%s undid bucketguard's fix of incident %s on bucket %s (account %s, %s).\n", n.By, n.Incident, n.Bucket, n.Account, n.Region)
	fmt.Fprintf(&b, "The bucket is approved for public read until %s.\n\n", n.Until)
	for _, st := range n.Plan.Steps {
		fmt.Fprintf(&b, "  %s: %s\n", st.What, st.Detail)
	}
	for _, l := range n.Plan.Left {
		fmt.Fprintf(&b, "  not put back: %s\n", l)
	}
	e := alert.Envelope{Kind: contract.KindUndo, Subject: alert.Subject(fmt.Sprintf("bucketguard: fix undone on %s by %s", n.Bucket, n.By)),
		Text: b.String(), JSON: js, Attributes: map[string]string{"kind": contract.KindUndo, "bucket": n.Bucket, "account": n.Account, "owner": owner}}
	s := d.sender()
	var errs []error
	for _, ops := range []bool{false, true} {
		e.Ops = ops
		if _, err := s.Send(ctx, e, d.Log); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintf(c.stderr, "bucketguard undo: the undo was made, but not told: %v\n", err)
	}
	return nil
}

func showUndo(c *cli, t posture.Target, p undo.Plan, asJSON bool, cfg config.Config) error {
	if asJSON {
		return printJSON(c.stdout, p)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "undo of incident %s on %s:\n", p.Incident, t.Bucket)
	for _, r := range p.Refused {
		fmt.Fprintf(&b, "  refused: %s\n", r)
	}
	if len(p.Refused) == 0 {
		fmt.Fprintf(&b, "  1. set the approval: %s=%s %s=%s\n", cfg.ApprovalTagKey, p.Tags[cfg.ApprovalTagKey], cfg.ApprovalUntilTagKey, p.Tags[cfg.ApprovalUntilTagKey])
		for i, st := range p.Steps {
			fmt.Fprintf(&b, "  %d. %s: %s\n", i+2, st.What, st.Detail)
		}
	}
	for _, l := range p.Left {
		fmt.Fprintf(&b, "  not put back: %s\n", l)
	}
	_, err := fmt.Fprint(c.stdout, b.String())
	return err
}
