// Package apply makes a plan's writes: each Step is one S3 or S3 Control
// call, sent only while enough time is left to finish it, read it back and
// alert. It reports what became of every step; it judges nothing.
package apply

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	ctltypes "github.com/aws/aws-sdk-go-v2/service/s3control/types"

	"github.com/bucketguard/bucketguard/remediations/acl"
	"github.com/bucketguard/bucketguard/remediations/awserr"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/plan"
	"github.com/bucketguard/bucketguard/remediations/posture"
	"github.com/bucketguard/bucketguard/remediations/read"
)

// StepResult is what became of one step.
type StepResult struct {
	Done   bool
	Err    error  // the write's error, when it failed
	Reason string // why it was not started
}

// Clients are what the writes go through.
type Clients struct {
	S3      S3Writer
	Control ControlWriter
}

// Run makes the plan's writes, each as soon as the writes it depends on
// (plan.DependsOn) have finished: independent writes go out together. A
// write starts only while at least margin is left before the context's
// deadline. A permanent failure is recorded and the writes that wait for it
// go ahead (Block Public Access is still worth turning on when an ACL write
// failed); a transient one, a vanished bucket or a near deadline stop every
// write not yet started, which are reported as not started.
func Run(ctx context.Context, c Clients, t posture.Target, steps []plan.Step, margin time.Duration, now func() time.Time, log *slog.Logger) ([]StepResult, error) {
	res := make([]StepResult, len(steps))
	done := make([]chan struct{}, len(steps))
	for i := range done {
		done[i] = make(chan struct{})
	}
	var (
		mu      sync.Mutex
		stopErr error
		reason  string
		written int
		wg      sync.WaitGroup
	)
	// admit decides, under mu, whether step i may start.
	admit := func(i int) bool {
		if stopErr == nil {
			if dl, ok := ctx.Deadline(); ok && dl.Sub(now()) < margin {
				stopErr, reason = awserr.ErrDeadline, "the invocation's deadline was near"
				log.Warn("stop", "reason", "deadline near", "step", steps[i].Op, "left", dl.Sub(now()).String())
			}
		}
		if stopErr != nil {
			res[i].Reason = reason
			return false
		}
		return true
	}
	// The writes that wait for nothing are admitted together, before any
	// of them runs: a failure of one never stops another that was ready
	// at the same moment.
	waits := make([]bool, len(steps))
	admitted := make([]bool, len(steps))
	for i, st := range steps {
		waits[i] = slices.ContainsFunc(steps, func(o plan.Step) bool { return plan.DependsOn(st, o) })
		if !waits[i] {
			admitted[i] = admit(i)
		}
	}
	for i, st := range steps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done[i])
			if waits[i] {
				for j := range steps {
					if j != i && plan.DependsOn(st, steps[j]) {
						<-done[j]
					}
				}
				mu.Lock()
				admitted[i] = admit(i)
				mu.Unlock()
			}
			if !admitted[i] {
				return
			}
			err := write(ctx, c, t, st)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				res[i].Done = true
				written++
				log.Info(contract.MsgAction, "op", st.Op, "actions", st.Actions, contract.FieldOutcome, "written")
				return
			}
			res[i].Err = err
			log.Warn(contract.MsgAction, "op", st.Op, "actions", st.Actions, contract.FieldOutcome, "failed", contract.FieldErr, awserr.Describe(err))
			switch {
			case stopErr != nil:
			case awserr.NoSuchBucket(err):
				stopErr, reason = fmt.Errorf("%s on %s: %w", st.Op, t.Bucket, awserr.ErrBucketGone), "the bucket no longer exists"
			case awserr.Transient(err):
				stopErr, reason = &awserr.TransientError{Op: string(st.Op), Err: err}, "a transient AWS error stopped the run; the retry will finish it"
			}
		}()
	}
	wg.Wait()
	if errors.Is(stopErr, awserr.ErrDeadline) {
		stopErr = fmt.Errorf("%w (%d of %d writes done)", awserr.ErrDeadline, written, len(steps))
	}
	return res, stopErr
}

// write makes one step's call. Every write operation of op's list has a case
// here; a test checks it.
func write(ctx context.Context, c Clients, t posture.Target, st plan.Step) error {
	b, owner, reg := aws.String(t.Bucket), aws.String(t.Account), read.InRegion(t.Region)
	var err error
	switch st.Op {
	case op.PutBucketAcl:
		_, err = c.S3.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: b, ExpectedBucketOwner: owner, AccessControlPolicy: aclToS3(*st.ACL)}, reg)
	case op.PutBucketPolicy:
		_, err = c.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: b, ExpectedBucketOwner: owner, Policy: aws.String(st.Policy)}, reg)
	case op.DeleteBucketPolicy:
		_, err = c.S3.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: b, ExpectedBucketOwner: owner}, reg)
	case op.PutPublicAccessBlock:
		_, err = c.S3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: b, ExpectedBucketOwner: owner,
			PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{
				BlockPublicAcls: aws.Bool(st.BPA.BlockPublicAcls), IgnorePublicAcls: aws.Bool(st.BPA.IgnorePublicAcls),
				BlockPublicPolicy: aws.Bool(st.BPA.BlockPublicPolicy), RestrictPublicBuckets: aws.Bool(st.BPA.RestrictPublicBuckets)}}, reg)
	case op.PutBucketEncryption:
		_, err = c.S3.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: b, ExpectedBucketOwner: owner,
			ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{encryptionRule(*st.Encryption)}}}, reg)
	case op.PutBucketOwnershipControls:
		_, err = c.S3.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: b, ExpectedBucketOwner: owner,
			OwnershipControls: &types.OwnershipControls{Rules: []types.OwnershipControlsRule{{ObjectOwnership: types.ObjectOwnership(st.Ownership)}}}}, reg)
	case op.PutBucketVersioning:
		_, err = c.S3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: b, ExpectedBucketOwner: owner,
			VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatus(st.Versioning)}}, reg)
	case op.PutBucketLogging:
		_, err = c.S3.PutBucketLogging(ctx, &s3.PutBucketLoggingInput{Bucket: b, ExpectedBucketOwner: owner,
			BucketLoggingStatus: &types.BucketLoggingStatus{LoggingEnabled: &types.LoggingEnabled{
				TargetBucket: aws.String(st.Logging.TargetBucket), TargetPrefix: aws.String(st.Logging.TargetPrefix)}}}, reg)
	case op.PutAccountPublicAccessBlock:
		_, err = c.Control.PutPublicAccessBlock(ctx, &s3control.PutPublicAccessBlockInput{AccountId: owner,
			PublicAccessBlockConfiguration: &ctltypes.PublicAccessBlockConfiguration{
				BlockPublicAcls: aws.Bool(st.BPA.BlockPublicAcls), IgnorePublicAcls: aws.Bool(st.BPA.IgnorePublicAcls),
				BlockPublicPolicy: aws.Bool(st.BPA.BlockPublicPolicy), RestrictPublicBuckets: aws.Bool(st.BPA.RestrictPublicBuckets)}}, read.ControlInRegion(t.Region))
	default:
		err = writeAccessPoint(ctx, c.Control, t, st)
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", st.Op, t.Bucket, err)
	}
	return nil
}

// writeAccessPoint makes an access point policy write.
func writeAccessPoint(ctx context.Context, c AccessPointWriter, t posture.Target, st plan.Step) error {
	if st.AccessPoint == nil {
		return fmt.Errorf("apply: no writer for %s", st.Op)
	}
	acct, name, reg := aws.String(t.Account), aws.String(st.AccessPoint.Name), read.ControlInRegion(t.Region)
	var err error
	switch st.Op {
	case op.PutAccessPointPolicy:
		_, err = c.PutAccessPointPolicy(ctx, &s3control.PutAccessPointPolicyInput{AccountId: acct, Name: name, Policy: aws.String(st.Policy)}, reg)
	case op.DeleteAccessPointPolicy:
		_, err = c.DeleteAccessPointPolicy(ctx, &s3control.DeleteAccessPointPolicyInput{AccountId: acct, Name: name}, reg)
	case op.PutAccessPointPolicyForObjectLambda:
		_, err = c.PutAccessPointPolicyForObjectLambda(ctx, &s3control.PutAccessPointPolicyForObjectLambdaInput{AccountId: acct, Name: name, Policy: aws.String(st.Policy)}, reg)
	case op.DeleteAccessPointPolicyForObjectLambda:
		_, err = c.DeleteAccessPointPolicyForObjectLambda(ctx, &s3control.DeleteAccessPointPolicyForObjectLambdaInput{AccountId: acct, Name: name}, reg)
	case op.PutMultiRegionAccessPointPolicy:
		// Asynchronous on AWS: the new policy is "proposed" until it has
		// propagated, which the read-back accepts. The client token makes a
		// retried request the same request.
		_, err = c.PutMultiRegionAccessPointPolicy(ctx, &s3control.PutMultiRegionAccessPointPolicyInput{AccountId: acct,
			ClientToken: aws.String(clientToken(st.Policy)),
			Details:     &ctltypes.PutMultiRegionAccessPointPolicyInput{Name: name, Policy: aws.String(st.Policy)}},
			read.ControlInRegion(read.MultiRegionControlRegion))
	default:
		return fmt.Errorf("apply: no writer for %s", st.Op)
	}
	return err
}

// clientToken is the idempotency token of a Multi-Region Access Point
// request: the same policy, the same token.
func clientToken(doc string) string {
	sum := sha256.Sum256([]byte(doc))
	return hex.EncodeToString(sum[:16])
}

func encryptionRule(e posture.Encryption) types.ServerSideEncryptionRule {
	r := types.ServerSideEncryptionRule{ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{
		SSEAlgorithm: types.ServerSideEncryption(e.Algorithm)}}
	if e.KMSKeyID != "" {
		r.ApplyServerSideEncryptionByDefault.KMSMasterKeyID = aws.String(e.KMSKeyID)
		r.BucketKeyEnabled = aws.Bool(e.BucketKey)
	}
	if len(e.BlockedTypes) > 0 {
		r.BlockedEncryptionTypes = &types.BlockedEncryptionTypes{}
		for _, t := range e.BlockedTypes {
			r.BlockedEncryptionTypes.EncryptionType = append(r.BlockedEncryptionTypes.EncryptionType, types.EncryptionType(t))
		}
	}
	return r
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
