package remediations

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	ctltypes "github.com/aws/aws-sdk-go-v2/service/s3control/types"

	"github.com/bucketguard/bucketguard/remediations/acl"
	"github.com/bucketguard/bucketguard/remediations/config"
)

// Needs says which reads a posture takes.
type Needs struct {
	Bucket     bool // the bucket's own settings; false for an account target
	Versioning bool
	Logging    bool
}

// region sends a call to the bucket's region, whatever the client's default.
func region(r string) func(*s3.Options) {
	return func(o *s3.Options) {
		if r != "" {
			o.Region = r
		}
	}
}

func ctlRegion(r string) func(*s3control.Options) {
	return func(o *s3control.Options) {
		if r != "" {
			o.Region = r
		}
	}
}

// reading collects the outcome of one concurrent read round.
type reading struct {
	mu        sync.Mutex
	wg        sync.WaitGroup
	gone      error
	transient []error
}

// fetch runs one read in its own goroutine and records it in dst. A "not
// configured" answer is a fact (Absent); NoSuchBucket ends the evaluation;
// a transient error fails the round so the invocation is retried; any
// other error marks only this fact Failed. best marks a read whose transient
// failure must not fail the round (the cross-check).
func fetch[T any](ctx context.Context, r *reading, op string, best bool, dst *Fact[T], call func(context.Context) (T, bool, error)) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		v, present, err := call(ctx)
		switch {
		case err == nil && present:
			*dst = Fact[T]{State: Set, Value: v}
		case err == nil || isNotConfigured(op, err):
			*dst = Fact[T]{State: Absent}
		case isNoSuchBucket(err):
			*dst = Fact[T]{State: Failed, Error: describe(err)}
			r.mu.Lock()
			r.gone = err
			r.mu.Unlock()
		case Transient(err) && !best:
			*dst = Fact[T]{State: Failed, Error: describe(err)}
			r.mu.Lock()
			r.transient = append(r.transient, &TransientError{Op: op, Err: err})
			r.mu.Unlock()
		default:
			*dst = Fact[T]{State: Failed, Error: describe(err)}
		}
	}()
}

// conn is what one read needs: the clients and the target.
type conn struct {
	s3  PostureReader
	ctl AccountReader
	t   Target
}

func (c conn) bucket() *string        { return aws.String(c.t.Bucket) }
func (c conn) owner() *string         { return aws.String(c.t.Account) }
func (c conn) reg() func(*s3.Options) { return region(c.t.Region) }

// reader issues one read into its fact of p. best marks a read whose
// transient failure must not fail the round.
type reader func(ctx context.Context, r *reading, c conn, p *Posture, best bool)

// reads maps each read operation to its reader; the posture round and the
// verify round both go through it, so a setting is read one way only.
var reads = map[config.Operation]reader{
	"s3control:GetPublicAccessBlock": func(ctx context.Context, r *reading, c conn, p *Posture, best bool) {
		fetch(ctx, r, "s3control:GetPublicAccessBlock", best, &p.AccountBPA, func(ctx context.Context) (BPA, bool, error) {
			out, err := c.ctl.GetPublicAccessBlock(ctx, &s3control.GetPublicAccessBlockInput{AccountId: c.owner()}, ctlRegion(c.t.Region))
			if err != nil || out.PublicAccessBlockConfiguration == nil {
				return BPA{}, false, err
			}
			return bpaFromControl(out.PublicAccessBlockConfiguration), true, nil
		})
	},
	"s3:GetPublicAccessBlock": func(ctx context.Context, r *reading, c conn, p *Posture, best bool) {
		fetch(ctx, r, "s3:GetPublicAccessBlock", best, &p.BucketBPA, func(ctx context.Context) (BPA, bool, error) {
			out, err := c.s3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: c.bucket(), ExpectedBucketOwner: c.owner()}, c.reg())
			if err != nil || out.PublicAccessBlockConfiguration == nil {
				return BPA{}, false, err
			}
			return bpaFromS3(out.PublicAccessBlockConfiguration), true, nil
		})
	},
	"s3:GetBucketPolicy": func(ctx context.Context, r *reading, c conn, p *Posture, best bool) {
		fetch(ctx, r, "s3:GetBucketPolicy", best, &p.Policy, func(ctx context.Context) (string, bool, error) {
			out, err := c.s3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: c.bucket(), ExpectedBucketOwner: c.owner()}, c.reg())
			if err != nil || out.Policy == nil || *out.Policy == "" {
				return "", false, err
			}
			return *out.Policy, true, nil
		})
	},
	"s3:GetBucketPolicyStatus": func(ctx context.Context, r *reading, c conn, p *Posture, _ bool) {
		fetch(ctx, r, "s3:GetBucketPolicyStatus", true, &p.PolicyStatus, func(ctx context.Context) (bool, bool, error) {
			out, err := c.s3.GetBucketPolicyStatus(ctx, &s3.GetBucketPolicyStatusInput{Bucket: c.bucket(), ExpectedBucketOwner: c.owner()}, c.reg())
			if err != nil || out.PolicyStatus == nil {
				return false, false, err
			}
			return aws.ToBool(out.PolicyStatus.IsPublic), true, nil
		})
	},
	"s3:GetBucketAcl": func(ctx context.Context, r *reading, c conn, p *Posture, best bool) {
		fetch(ctx, r, "s3:GetBucketAcl", best, &p.ACL, func(ctx context.Context) (acl.ACL, bool, error) {
			out, err := c.s3.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: c.bucket(), ExpectedBucketOwner: c.owner()}, c.reg())
			if err != nil {
				return acl.ACL{}, false, err
			}
			return aclFromS3(out.Owner, out.Grants), true, nil
		})
	},
	"s3:GetBucketEncryption": func(ctx context.Context, r *reading, c conn, p *Posture, best bool) {
		fetch(ctx, r, "s3:GetBucketEncryption", best, &p.Encryption, func(ctx context.Context) (Encryption, bool, error) {
			out, err := c.s3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: c.bucket(), ExpectedBucketOwner: c.owner()}, c.reg())
			if err != nil || out.ServerSideEncryptionConfiguration == nil {
				return Encryption{}, false, err
			}
			return encryptionFromS3(out.ServerSideEncryptionConfiguration.Rules)
		})
	},
	"s3:GetBucketTagging": func(ctx context.Context, r *reading, c conn, p *Posture, best bool) {
		fetch(ctx, r, "s3:GetBucketTagging", best, &p.Tags, func(ctx context.Context) (map[string]string, bool, error) {
			out, err := c.s3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: c.bucket(), ExpectedBucketOwner: c.owner()}, c.reg())
			if err != nil {
				return nil, false, err
			}
			tags := make(map[string]string, len(out.TagSet))
			for _, t := range out.TagSet {
				tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			return tags, len(tags) > 0, nil
		})
	},
	"s3:GetBucketOwnershipControls": func(ctx context.Context, r *reading, c conn, p *Posture, best bool) {
		fetch(ctx, r, "s3:GetBucketOwnershipControls", best, &p.Ownership, func(ctx context.Context) (string, bool, error) {
			out, err := c.s3.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: c.bucket(), ExpectedBucketOwner: c.owner()}, c.reg())
			if err != nil || out.OwnershipControls == nil || len(out.OwnershipControls.Rules) == 0 {
				return "", false, err
			}
			return string(out.OwnershipControls.Rules[0].ObjectOwnership), true, nil
		})
	},
	"s3:GetBucketVersioning": func(ctx context.Context, r *reading, c conn, p *Posture, best bool) {
		fetch(ctx, r, "s3:GetBucketVersioning", best, &p.Versioning, func(ctx context.Context) (string, bool, error) {
			out, err := c.s3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: c.bucket(), ExpectedBucketOwner: c.owner()}, c.reg())
			if err != nil {
				return "", false, err
			}
			return string(out.Status), out.Status != "", nil
		})
	},
	"s3:GetBucketLogging": func(ctx context.Context, r *reading, c conn, p *Posture, best bool) {
		fetch(ctx, r, "s3:GetBucketLogging", best, &p.Logging, func(ctx context.Context) (Logging, bool, error) {
			out, err := c.s3.GetBucketLogging(ctx, &s3.GetBucketLoggingInput{Bucket: c.bucket(), ExpectedBucketOwner: c.owner()}, c.reg())
			if err != nil || out.LoggingEnabled == nil {
				return Logging{}, false, err
			}
			return Logging{TargetBucket: aws.ToString(out.LoggingEnabled.TargetBucket), TargetPrefix: aws.ToString(out.LoggingEnabled.TargetPrefix)}, true, nil
		})
	},
}

// ReadOps lists the reads a posture takes.
func (n Needs) ReadOps() []config.Operation {
	ops := []config.Operation{"s3control:GetPublicAccessBlock"}
	if !n.Bucket {
		return ops
	}
	ops = append(ops, "s3:GetPublicAccessBlock", "s3:GetBucketPolicy", "s3:GetBucketPolicyStatus", "s3:GetBucketAcl",
		"s3:GetBucketEncryption", "s3:GetBucketTagging", "s3:GetBucketOwnershipControls")
	if n.Versioning {
		ops = append(ops, "s3:GetBucketVersioning")
	}
	if n.Logging {
		ops = append(ops, "s3:GetBucketLogging")
	}
	return ops
}

// ReadPosture reads everything the planner needs in one concurrent round: at
// most ten calls, none waiting on another. It returns ErrBucketGone when the
// bucket no longer exists and a TransientError when a read should be retried;
// every other failure is recorded on its Fact and the round goes on.
func ReadPosture(ctx context.Context, s3c PostureReader, ctl AccountReader, t Target, n Needs) (Posture, error) {
	p := Posture{Target: t}
	for _, f := range []*State{&p.BucketBPA.State, &p.Policy.State, &p.ACL.State, &p.Encryption.State,
		&p.Tags.State, &p.Ownership.State, &p.Versioning.State, &p.Logging.State, &p.PolicyStatus.State} {
		*f = Unread
	}
	var r reading
	c := conn{s3: s3c, ctl: ctl, t: t}
	for _, op := range n.ReadOps() {
		reads[op](ctx, &r, c, &p, false)
	}
	r.wg.Wait()
	if r.gone != nil {
		return p, fmt.Errorf("read posture of %s: %w: %v", t.Bucket, ErrBucketGone, describe(r.gone))
	}
	if len(r.transient) > 0 {
		return p, fmt.Errorf("read posture of %s: %w", t.Bucket, errors.Join(r.transient...))
	}
	return p, nil
}

func bpaFromS3(c *types.PublicAccessBlockConfiguration) BPA {
	return BPA{aws.ToBool(c.BlockPublicAcls), aws.ToBool(c.IgnorePublicAcls), aws.ToBool(c.BlockPublicPolicy), aws.ToBool(c.RestrictPublicBuckets)}
}

func bpaFromControl(c *ctltypes.PublicAccessBlockConfiguration) BPA {
	return BPA{aws.ToBool(c.BlockPublicAcls), aws.ToBool(c.IgnorePublicAcls), aws.ToBool(c.BlockPublicPolicy), aws.ToBool(c.RestrictPublicBuckets)}
}

func aclFromS3(owner *types.Owner, grants []types.Grant) acl.ACL {
	a := acl.ACL{Grants: []acl.Grant{}}
	if owner != nil {
		a.Owner = acl.Owner{ID: aws.ToString(owner.ID), DisplayName: aws.ToString(owner.DisplayName)}
	}
	for _, g := range grants {
		ag := acl.Grant{Permission: string(g.Permission)}
		if g.Grantee != nil {
			ag.Grantee = acl.Grantee{
				Type:         string(g.Grantee.Type),
				ID:           aws.ToString(g.Grantee.ID),
				URI:          aws.ToString(g.Grantee.URI),
				EmailAddress: aws.ToString(g.Grantee.EmailAddress),
				DisplayName:  aws.ToString(g.Grantee.DisplayName),
			}
		}
		a.Grants = append(a.Grants, ag)
	}
	return a
}

func aclToS3(a acl.ACL) *types.AccessControlPolicy {
	p := &types.AccessControlPolicy{Grants: []types.Grant{}}
	if a.Owner.ID != "" {
		p.Owner = &types.Owner{ID: aws.String(a.Owner.ID)}
		if a.Owner.DisplayName != "" {
			p.Owner.DisplayName = aws.String(a.Owner.DisplayName)
		}
	}
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return aws.String(s)
	}
	for _, g := range a.Grants {
		p.Grants = append(p.Grants, types.Grant{
			Permission: types.Permission(g.Permission),
			Grantee: &types.Grantee{
				Type:         types.Type(g.Grantee.Type),
				ID:           opt(g.Grantee.ID),
				URI:          opt(g.Grantee.URI),
				EmailAddress: opt(g.Grantee.EmailAddress),
				DisplayName:  opt(g.Grantee.DisplayName),
			},
		})
	}
	return p
}

func encryptionFromS3(rules []types.ServerSideEncryptionRule) (Encryption, bool, error) {
	var e Encryption
	found := false
	for _, r := range rules {
		if d := r.ApplyServerSideEncryptionByDefault; d != nil && !found {
			e.Algorithm = string(d.SSEAlgorithm)
			e.KMSKeyID = aws.ToString(d.KMSMasterKeyID)
			e.BucketKey = aws.ToBool(r.BucketKeyEnabled)
			found = true
		}
		if r.BlockedEncryptionTypes != nil {
			for _, t := range r.BlockedEncryptionTypes.EncryptionType {
				e.BlockedTypes = append(e.BlockedTypes, string(t))
			}
		}
	}
	return e, found, nil
}
