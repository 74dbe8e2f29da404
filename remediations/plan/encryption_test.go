package plan_test

import (
	"testing"

	"github.com/bucketguard/bucketguard/remediations/plan"
)

// The order of strength bucketguard never goes down: none < SSE-S3 <
// SSE-KMS < DSSE-KMS; anything else is not ranked and left alone.
func TestEncryptionStrengthOrder(t *testing.T) {
	order := []string{"", "AES256", "aws:kms", "aws:kms:dsse"}
	for i := 1; i < len(order); i++ {
		if plan.Strength(order[i-1]) >= plan.Strength(order[i]) {
			t.Errorf("%q is not weaker than %q", order[i-1], order[i])
		}
	}
	if plan.Strength("aws:kms:something-new") != -1 {
		t.Error("an unknown algorithm must not be ranked")
	}
}
