package remediations

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	ctltypes "github.com/aws/aws-sdk-go-v2/service/s3control/types"
)

// Outcome is what became of one action.
type Outcome string

// Action outcomes.
const (
	Verified    Outcome = "verified"    // written and read back as intended
	Unverified  Outcome = "unverified"  // written, but the read-back disagrees or failed
	WriteFailed Outcome = "failed"      // the write failed
	Skipped     Outcome = "skipped"     // the plan chose not to attempt it
	NotStarted  Outcome = "not-started" // the invocation stopped before it
	Planned     Outcome = "planned"     // notify mode: nothing is written
)

// stepResult is the outcome of one write.
type stepResult struct {
	done   bool
	err    error  // the write's error, when it failed
	reason string // why it was not started
}

// writer is what apply needs: the bucket and account writers.
type writer struct {
	s3  BucketWriter
	ctl AccountWriter
	t   Target
}

// apply makes the plan's writes in order. Before each one it checks that
// enough time is left to finish it. A permanent failure is recorded and the
// next write goes ahead; a transient one, a vanished bucket or a near
// deadline stop the rest, which are reported as not started.
func apply(ctx context.Context, w writer, steps []Step, margin time.Duration, now func() time.Time, log *slog.Logger) ([]stepResult, error) {
	res := make([]stepResult, len(steps))
	stop := func(from int, reason string) {
		for j := from; j < len(steps); j++ {
			res[j].reason = reason
		}
	}
	for i, st := range steps {
		if dl, ok := ctx.Deadline(); ok && dl.Sub(now()) < margin {
			stop(i, "the invocation's deadline was near")
			log.Warn("stop", "reason", "deadline near", "step", st.Op, "left", dl.Sub(now()).String())
			return res, fmt.Errorf("%w (%d of %d writes done)", ErrDeadline, i, len(steps))
		}
		err := w.write(ctx, st)
		if err == nil {
			res[i].done = true
			log.Info("action", "op", st.Op, "actions", st.Actions, "outcome", "written")
			continue
		}
		res[i].err = err
		log.Warn("action", "op", st.Op, "actions", st.Actions, "outcome", "failed", "err", describe(err))
		switch {
		case isNoSuchBucket(err):
			stop(i+1, "the bucket no longer exists")
			return res, fmt.Errorf("%s on %s: %w", st.Op, w.t.Bucket, ErrBucketGone)
		case Transient(err):
			stop(i+1, "a transient AWS error stopped the run; the retry will finish it")
			return res, &TransientError{Op: string(st.Op), Err: err}
		}
	}
	return res, nil
}

func (w writer) write(ctx context.Context, st Step) error {
	b, owner, reg := aws.String(w.t.Bucket), aws.String(w.t.Account), region(w.t.Region)
	var err error
	switch st.Op {
	case "s3:PutBucketAcl":
		_, err = w.s3.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: b, ExpectedBucketOwner: owner, AccessControlPolicy: aclToS3(*st.ACL)}, reg)
	case "s3:PutBucketPolicy":
		_, err = w.s3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: b, ExpectedBucketOwner: owner, Policy: aws.String(st.Policy)}, reg)
	case "s3:DeleteBucketPolicy":
		_, err = w.s3.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: b, ExpectedBucketOwner: owner}, reg)
	case "s3:PutPublicAccessBlock":
		_, err = w.s3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: b, ExpectedBucketOwner: owner,
			PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{
				BlockPublicAcls: aws.Bool(st.BPA.BlockPublicAcls), IgnorePublicAcls: aws.Bool(st.BPA.IgnorePublicAcls),
				BlockPublicPolicy: aws.Bool(st.BPA.BlockPublicPolicy), RestrictPublicBuckets: aws.Bool(st.BPA.RestrictPublicBuckets)}}, reg)
	case "s3:PutBucketEncryption":
		_, err = w.s3.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: b, ExpectedBucketOwner: owner,
			ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{encryptionRule(*st.Encryption)}}}, reg)
	case "s3:PutBucketOwnershipControls":
		_, err = w.s3.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: b, ExpectedBucketOwner: owner,
			OwnershipControls: &types.OwnershipControls{Rules: []types.OwnershipControlsRule{{ObjectOwnership: types.ObjectOwnership(st.Ownership)}}}}, reg)
	case "s3:PutBucketVersioning":
		_, err = w.s3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: b, ExpectedBucketOwner: owner,
			VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatus(st.Versioning)}}, reg)
	case "s3:PutBucketLogging":
		_, err = w.s3.PutBucketLogging(ctx, &s3.PutBucketLoggingInput{Bucket: b, ExpectedBucketOwner: owner,
			BucketLoggingStatus: &types.BucketLoggingStatus{LoggingEnabled: &types.LoggingEnabled{
				TargetBucket: aws.String(st.Logging.TargetBucket), TargetPrefix: aws.String(st.Logging.TargetPrefix)}}}, reg)
	case "s3control:PutPublicAccessBlock":
		_, err = w.ctl.PutPublicAccessBlock(ctx, &s3control.PutPublicAccessBlockInput{AccountId: owner,
			PublicAccessBlockConfiguration: &ctltypes.PublicAccessBlockConfiguration{
				BlockPublicAcls: aws.Bool(st.BPA.BlockPublicAcls), IgnorePublicAcls: aws.Bool(st.BPA.IgnorePublicAcls),
				BlockPublicPolicy: aws.Bool(st.BPA.BlockPublicPolicy), RestrictPublicBuckets: aws.Bool(st.BPA.RestrictPublicBuckets)}}, ctlRegion(w.t.Region))
	default:
		return fmt.Errorf("unknown write %s", st.Op)
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", st.Op, w.t.Bucket, err)
	}
	return nil
}

func encryptionRule(e Encryption) types.ServerSideEncryptionRule {
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
