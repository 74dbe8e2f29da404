// Package awserr sorts the errors AWS returns into what bucketguard does
// about them: a bucket that is gone (nothing to fix), a transient failure
// (the invocation is retried), a refusal (recorded, the run goes on), and
// "not configured" (a fact, not a failure: see op.Spec.Absent).
package awserr

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// ErrBucketGone means the bucket no longer exists (NoSuchBucket). Nothing is
// left to fix, and retrying will not help.
var ErrBucketGone = errors.New("bucket no longer exists")

// ErrDeadline means the invocation stopped starting writes because too
// little time was left to finish them, read them back and alert. The work
// left is reported and a retry finishes it.
var ErrDeadline = errors.New("deadline near: remaining writes not started")

// TransientError is an AWS failure worth retrying the invocation for:
// throttling, 5xx, time-outs, dropped connections. The SDK has already
// retried it.
type TransientError struct {
	Op  string
	Err error
}

func (e *TransientError) Error() string { return fmt.Sprintf("%s: transient: %v", e.Op, e.Err) }
func (e *TransientError) Unwrap() error { return e.Err }

// retryables is the SDK's own list of retryable errors, the one definition
// of "transient" in bucketguard.
var retryables = retry.IsErrorRetryables(retry.DefaultRetryables)

// Transient reports whether err is worth retrying later.
func Transient(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	var te *TransientError
	if errors.As(err, &te) {
		return true
	}
	return retryables.IsErrorRetryable(err) == aws.TrueTernary
}

// Code returns the AWS error code of err, or "".
func Code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// NoSuchBucket reports whether err says the bucket does not exist.
func NoSuchBucket(err error) bool {
	var nsb *types.NoSuchBucket
	return errors.As(err, &nsb) || Code(err) == "NoSuchBucket"
}

// Unsupported reports an operation the endpoint does not implement: an
// emulator's NotImplemented, or a 404 or 501 that carries no AWS error code.
// AWS itself implements every call bucketguard makes.
func Unsupported(err error) bool {
	if Code(err) == "NotImplemented" {
		return true
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		s := re.HTTPStatusCode()
		return (s == 404 || s == 501) && Code(err) == ""
	}
	return false
}

// Describe renders an AWS error for a person: code and message, no request
// ids or stack of wrappers.
func Describe(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if msg := ae.ErrorMessage(); msg != "" {
			return ae.ErrorCode() + ": " + msg
		}
		return ae.ErrorCode()
	}
	return err.Error()
}
