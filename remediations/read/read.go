// Package read is the first step of an evaluation: it reads a target's
// posture (bucket or account) in one concurrent round, through small
// consumer-side interfaces of the SDK. "Not configured" is a fact, not a
// failure; a read that fails for good marks only its own setting.
package read

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3control"

	"github.com/bucketguard/bucketguard/remediations/acl"
	"github.com/bucketguard/bucketguard/remediations/awserr"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// Needs says which reads a posture takes.
type Needs struct {
	Bucket bool // the bucket's own settings; false for an account target
	// AccountBPA reads the account's Block Public Access with a bucket's
	// settings (an account target always reads it).
	AccountBPA bool
	Versioning bool
	Logging    bool
}

// Ops lists the reads a posture takes.
func (n Needs) Ops() []op.Operation {
	if !n.Bucket {
		return []op.Operation{op.GetAccountPublicAccessBlock}
	}
	var ops []op.Operation
	if n.AccountBPA {
		ops = append(ops, op.GetAccountPublicAccessBlock)
	}
	ops = append(ops, op.GetPublicAccessBlock, op.GetBucketPolicy, op.GetBucketPolicyStatus, op.GetBucketAcl,
		op.GetBucketEncryption, op.GetBucketTagging, op.GetBucketOwnershipControls, op.GetBucketWebsite, op.ListAccessPoints)
	if n.Versioning {
		ops = append(ops, op.GetBucketVersioning)
	}
	if n.Logging {
		ops = append(ops, op.GetBucketLogging)
	}
	return ops
}

// Posture reads everything the planner needs in one concurrent round (Needs.Ops:
// the calls, none waiting on another). It returns awserr.ErrBucketGone when
// the bucket no longer exists and a TransientError when a read should be
// retried; every other failure is recorded on its posture.Fact and the round goes on.
func Posture(ctx context.Context, c Clients, t posture.Target, n Needs) (posture.Posture, error) {
	p := posture.Posture{Target: t}
	for _, f := range []*posture.State{&p.BucketBPA.State, &p.Policy.State, &p.ACL.State, &p.Encryption.State,
		&p.Tags.State, &p.Ownership.State, &p.Versioning.State, &p.Logging.State, &p.Website.State, &p.PolicyStatus.State, &p.AccessPoints.State} {
		*f = posture.Unread
	}
	var r RoundResult
	if t.AccessPoint != nil {
		// An account-level access point, on its own: one round.
		p.AccessPoints = posture.Fact[[]posture.AccessPoint]{State: posture.Set, Value: []posture.AccessPoint{{AccessPointRef: *t.AccessPoint}}}
		r = AccessPointRound(ctx, c, &p, false, false)
	} else {
		r = Round(ctx, c, &p, n.Ops(), false)
		if r.Gone == nil && len(r.Transient) == 0 && len(p.AccessPoints.Value) > 0 {
			// The bucket's access points, once listed: a second round,
			// which a bucket without access points never takes.
			r = AccessPointRound(ctx, c, &p, false, false)
		}
	}
	if r.Gone != nil {
		return p, fmt.Errorf("read posture of %s: %w: %v", t.Bucket, awserr.ErrBucketGone, awserr.Describe(r.Gone))
	}
	if len(r.Transient) > 0 {
		return p, fmt.Errorf("read posture of %s: %w", t.Bucket, errors.Join(r.Transient...))
	}
	return p, r.Err
}

// RoundResult is what one concurrent round of reads came to, beyond the
// facts it filled in.
type RoundResult struct {
	// Gone is the NoSuchBucket error, when a read met one.
	Gone error
	// Transient lists the reads that failed in a way worth retrying.
	Transient []error
	// Err is a programming error: an operation with no reader.
	Err error
}

// round collects the outcome of one concurrent read round.
type round struct {
	mu   sync.Mutex
	wg   sync.WaitGroup
	res  RoundResult
	best bool
	// sem, when set, bounds the reads in flight.
	sem chan struct{}
}

// Round issues the reads ops into p, all at once, and waits for them. best
// marks a round whose transient failures must not fail the evaluation (the
// read-back): they are recorded on their facts only. The cross-check
// (GetBucketPolicyStatus) is always best effort.
func Round(ctx context.Context, c Clients, p *posture.Posture, ops []op.Operation, best bool) RoundResult {
	r := &round{best: best}
	for _, o := range ops {
		if err := r.start(ctx, c, p, o); err != nil {
			r.res.Err = errors.Join(r.res.Err, err)
		}
	}
	r.wg.Wait()
	return r.res
}

// fetch runs one read in its own goroutine and records it in dst. A "not
// configured" answer is a fact (posture.Absent); NoSuchBucket ends the evaluation; a
// transient error fails the round so the invocation is retried (unless the
// read is best effort); any other error marks only this fact Failed.
func fetch[T any](ctx context.Context, r *round, o op.Operation, best bool, dst *posture.Fact[T], call func(context.Context) (T, bool, error)) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		if r.sem != nil {
			r.sem <- struct{}{}
			defer func() { <-r.sem }()
		}
		v, present, err := call(ctx)
		switch {
		case err == nil && present:
			*dst = posture.Fact[T]{State: posture.Set, Value: v}
		case err == nil || o.IsAbsent(awserr.Code(err)):
			*dst = posture.Fact[T]{State: posture.Absent}
		default:
			*dst = posture.Fact[T]{State: posture.Failed, Error: awserr.Describe(err), Code: awserr.Code(err)}
			r.mu.Lock()
			defer r.mu.Unlock()
			switch {
			case awserr.NoSuchBucket(err):
				r.res.Gone = err
			case awserr.Transient(err) && !best && !r.best:
				r.res.Transient = append(r.res.Transient, &awserr.TransientError{Op: string(o), Err: err})
			}
		}
	}()
}

// start issues one read. Every read operation of op's list has a case here
// or in startControl; a test checks it.
func (r *round) start(ctx context.Context, c Clients, p *posture.Posture, o op.Operation) error {
	t := p.Target
	b, owner, reg := aws.String(t.Bucket), aws.String(t.Account), InRegion(t.Region)
	switch o {
	case op.GetAccountPublicAccessBlock:
		fetch(ctx, r, o, false, &p.AccountBPA, func(ctx context.Context) (posture.BPA, bool, error) {
			out, err := c.Control.GetPublicAccessBlock(ctx, &s3control.GetPublicAccessBlockInput{AccountId: owner}, ControlInRegion(t.Region))
			if err != nil || out.PublicAccessBlockConfiguration == nil {
				return posture.BPA{}, false, err
			}
			return bpaFromControl(out.PublicAccessBlockConfiguration), true, nil
		})
	case op.GetPublicAccessBlock:
		fetch(ctx, r, o, false, &p.BucketBPA, func(ctx context.Context) (posture.BPA, bool, error) {
			out, err := c.S3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: b, ExpectedBucketOwner: owner}, reg)
			if err != nil || out.PublicAccessBlockConfiguration == nil {
				return posture.BPA{}, false, err
			}
			return bpaFromS3(out.PublicAccessBlockConfiguration), true, nil
		})
	case op.GetBucketPolicy:
		fetch(ctx, r, o, false, &p.Policy, func(ctx context.Context) (string, bool, error) {
			out, err := c.S3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: b, ExpectedBucketOwner: owner}, reg)
			if err != nil || out.Policy == nil || *out.Policy == "" {
				return "", false, err
			}
			return *out.Policy, true, nil
		})
	case op.GetBucketPolicyStatus:
		fetch(ctx, r, o, true, &p.PolicyStatus, func(ctx context.Context) (bool, bool, error) {
			out, err := c.S3.GetBucketPolicyStatus(ctx, &s3.GetBucketPolicyStatusInput{Bucket: b, ExpectedBucketOwner: owner}, reg)
			if err != nil || out.PolicyStatus == nil {
				return false, false, err
			}
			return aws.ToBool(out.PolicyStatus.IsPublic), true, nil
		})
	case op.GetBucketAcl:
		fetch(ctx, r, o, false, &p.ACL, func(ctx context.Context) (acl.ACL, bool, error) {
			out, err := c.S3.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: b, ExpectedBucketOwner: owner}, reg)
			if err != nil {
				return acl.ACL{}, false, err
			}
			return aclFromS3(out.Owner, out.Grants), true, nil
		})
	default:
		return r.startControl(ctx, c, p, o)
	}
	return nil
}

// startControl issues the reads of the other controls: encryption, tags,
// ownership, versioning and logging.
func (r *round) startControl(ctx context.Context, c Clients, p *posture.Posture, o op.Operation) error {
	t := p.Target
	b, owner, reg := aws.String(t.Bucket), aws.String(t.Account), InRegion(t.Region)
	switch o {
	case op.GetBucketEncryption:
		fetch(ctx, r, o, false, &p.Encryption, func(ctx context.Context) (posture.Encryption, bool, error) {
			out, err := c.S3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: b, ExpectedBucketOwner: owner}, reg)
			if err != nil || out.ServerSideEncryptionConfiguration == nil {
				return posture.Encryption{}, false, err
			}
			e, found := encryptionFromS3(out.ServerSideEncryptionConfiguration.Rules)
			return e, found, nil
		})
	case op.GetBucketTagging:
		fetch(ctx, r, o, false, &p.Tags, func(ctx context.Context) (map[string]string, bool, error) {
			out, err := c.S3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b, ExpectedBucketOwner: owner}, reg)
			if err != nil {
				return nil, false, err
			}
			tags := tagsFromS3(out.TagSet)
			return tags, len(tags) > 0, nil
		})
	case op.ListAccessPoints:
		fetch(ctx, r, o, false, &p.AccessPoints, func(ctx context.Context) ([]posture.AccessPoint, bool, error) {
			return listAccessPoints(ctx, c.Control, t, &p.AccessPointsCapped)
		})
	case op.GetBucketOwnershipControls:
		fetch(ctx, r, o, false, &p.Ownership, func(ctx context.Context) (string, bool, error) {
			out, err := c.S3.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: b, ExpectedBucketOwner: owner}, reg)
			if err != nil || out.OwnershipControls == nil || len(out.OwnershipControls.Rules) == 0 {
				return "", false, err
			}
			return string(out.OwnershipControls.Rules[0].ObjectOwnership), true, nil
		})
	case op.GetBucketVersioning:
		fetch(ctx, r, o, false, &p.Versioning, func(ctx context.Context) (string, bool, error) {
			out, err := c.S3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: b, ExpectedBucketOwner: owner}, reg)
			if err != nil {
				return "", false, err
			}
			return string(out.Status), out.Status != "", nil
		})
	case op.GetBucketLogging:
		fetch(ctx, r, o, false, &p.Logging, func(ctx context.Context) (posture.Logging, bool, error) {
			out, err := c.S3.GetBucketLogging(ctx, &s3.GetBucketLoggingInput{Bucket: b, ExpectedBucketOwner: owner}, reg)
			if err != nil || out.LoggingEnabled == nil {
				return posture.Logging{}, false, err
			}
			return posture.Logging{TargetBucket: aws.ToString(out.LoggingEnabled.TargetBucket), TargetPrefix: aws.ToString(out.LoggingEnabled.TargetPrefix)}, true, nil
		})
	case op.GetBucketWebsite:
		fetch(ctx, r, o, false, &p.Website, func(ctx context.Context) (posture.Website, bool, error) {
			out, err := c.S3.GetBucketWebsite(ctx, &s3.GetBucketWebsiteInput{Bucket: b, ExpectedBucketOwner: owner}, reg)
			if err != nil {
				return posture.Website{}, false, err
			}
			w := posture.Website{}
			if out.IndexDocument != nil {
				w.IndexDocument = aws.ToString(out.IndexDocument.Suffix)
			}
			if out.RedirectAllRequestsTo != nil {
				w.RedirectAllTo = aws.ToString(out.RedirectAllRequestsTo.HostName)
			}
			return w, true, nil
		})
	default:
		return fmt.Errorf("read: no reader for %s", o)
	}
	return nil
}

// InRegion sends a call to the bucket's region, whatever the client's
// default: S3 does not follow a request sent to another region's endpoint.
func InRegion(r string) func(*s3.Options) {
	return func(o *s3.Options) {
		if r != "" {
			o.Region = r
		}
	}
}

// ControlInRegion sends an S3 Control call to the target's region.
func ControlInRegion(r string) func(*s3control.Options) {
	return func(o *s3control.Options) {
		if r != "" {
			o.Region = r
		}
	}
}
