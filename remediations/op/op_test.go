package op_test

import (
	"strings"
	"testing"

	"github.com/bucketguard/bucketguard/remediations/op"
)

// The list is well formed: unique names, an IAM action each, a read-back
// (itself a read) for every configuration write, "not configured" codes only
// on reads.
func TestList(t *testing.T) {
	seen := map[op.Operation]bool{}
	for _, s := range op.All() {
		if seen[s.Op] {
			t.Errorf("%s listed twice", s.Op)
		}
		seen[s.Op] = true
		svc, name, ok := strings.Cut(string(s.Op), ":")
		if !ok || svc == "" || name == "" || !strings.Contains(s.IAM, ":") || s.Resource == "" {
			t.Errorf("%+v", s)
		}
		configWrite := s.Kind == op.Write && s.Resource.IsS3()
		if configWrite {
			rb, ok := op.Lookup(s.ReadBack)
			if !ok || rb.Kind != op.Read {
				t.Errorf("%s: read-back %q is not a listed read", s.Op, s.ReadBack)
			}
		} else if s.ReadBack != "" {
			t.Errorf("%s: only configuration writes have a read-back", s.Op)
		}
		if s.Kind != op.Read && len(s.Absent) > 0 {
			t.Errorf("%s: a write has no \"not configured\" answer", s.Op)
		}
	}
	if _, err := op.Of("s3:GetBucketPolicyy"); err == nil {
		t.Error("a misspelt operation is not refused")
	}
}

func TestActions(t *testing.T) {
	got := op.Actions([]op.Operation{op.GetBucketEncryption, op.PutBucketEncryption, op.GetBucketPolicy, op.GetBucketEncryption, op.ListBuckets}, op.Bucket)
	want := []string{"s3:GetBucketPolicy", "s3:GetEncryptionConfiguration", "s3:PutEncryptionConfiguration"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("Actions = %v, want %v", got, want)
	}
	if !op.GetBucketTagging.IsAbsent("NoSuchTagSet") || op.GetBucketAcl.IsAbsent("NoSuchTagSet") || op.GetBucketPolicy.IsAbsent("") {
		t.Error("IsAbsent")
	}
}
