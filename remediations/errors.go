package remediations

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// ErrBucketGone means the bucket no longer exists (NoSuchBucket). Nothing is
// left to fix, and retrying will not help.
var ErrBucketGone = errors.New("bucket no longer exists")

// ErrDeadline means the invocation stopped starting writes because its
// deadline was near. The work left is reported and a retry finishes it.
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

func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func isNoSuchBucket(err error) bool {
	var nsb *types.NoSuchBucket
	return errors.As(err, &nsb) || Code(err) == "NoSuchBucket"
}

// notConfigured lists, per read, the error codes S3 uses to say "this bucket
// has no such configuration": a fact about the bucket, not a failure.
var notConfigured = map[string][]string{
	"s3:GetPublicAccessBlock":        {"NoSuchPublicAccessBlockConfiguration"},
	"s3:GetBucketPolicy":             {"NoSuchBucketPolicy"},
	"s3:GetBucketPolicyStatus":       {"NoSuchBucketPolicy"},
	"s3:GetBucketEncryption":         {"ServerSideEncryptionConfigurationNotFoundError"},
	"s3:GetBucketTagging":            {"NoSuchTagSet", "NoSuchTagSetError"},
	"s3:GetBucketOwnershipControls":  {"OwnershipControlsNotFoundError"},
	"s3control:GetPublicAccessBlock": {"NoSuchPublicAccessBlockConfiguration"},
}

func isNotConfigured(op string, err error) bool {
	code := Code(err)
	for _, c := range notConfigured[op] {
		if code == c {
			return true
		}
	}
	return false
}

// unsupported reports an operation the endpoint does not implement, as an
// emulator may answer GetBucketPolicyStatus.
func unsupported(err error) bool {
	return Code(err) == "NotImplemented" || httpStatus(err) == http.StatusNotImplemented
}

// describe renders an AWS error for a person: code and message, no request
// ids or stack of wrappers.
func describe(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if msg := ae.ErrorMessage(); msg != "" {
			return ae.ErrorCode() + ": " + msg
		}
		return ae.ErrorCode()
	}
	return err.Error()
}
