package plan_test

import (
	"testing"
	"time"

	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/plan"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

const (
	rvCentral = "arn:aws:kms:eu-west-1:111122223333:key/1111aaaa-12ab-34cd-56ef-1234567890ab"
	rvTeam    = "arn:aws:kms:eu-west-1:111122223333:key/5555eeee-12ab-34cd-56ef-1234567890ab"
)

func rvPlan(enc posture.Encryption, accepted []string) plan.Plan {
	cfg := config.Default()
	cfg.Encryption, cfg.KMSKeyARN, cfg.AcceptedKMSKeys = config.SSEKMS, rvCentral, accepted
	p := posture.Posture{Target: posture.Target{Account: "111122223333", Region: "eu-west-1", Bucket: "acme-data"}}
	p.Encryption = posture.Fact[posture.Encryption]{State: posture.Set, Value: enc}
	return plan.New(p, plan.Input{Config: cfg, Now: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)})
}

func rvReplaces(p plan.Plan) bool {
	for _, a := range p.Actions {
		if a.Name == plan.RestoreDefaultEncryption && a.Skipped == "" {
			return true
		}
	}
	return false
}

// Found by a hostile review of issue 11: with accepted keys set, a bucket whose default encryption names
// an accepted key by an alias (S3 stores KMSMasterKeyID as given: key id,
// key ARN, alias name or alias ARN) is re-keyed to the central key; the
// setting refuses aliases, so the operator cannot accept it. New uploads of
// that team then need the central key (kms:GenerateDataKey), an outage for
// writers. The same for the central key named by its alias.
func TestKeyByAliasIsKept(t *testing.T) {
	for _, key := range []string{"alias/team-key", "arn:aws:kms:eu-west-1:111122223333:alias/team-key", "alias/bucketguard-central"} {
		if p := rvPlan(posture.Encryption{Algorithm: "aws:kms", KMSKeyID: key}, []string{rvTeam}); rvReplaces(p) {
			t.Errorf("%s: replaced with the central key although it may be the accepted (or the central) key; findings %+v", key, p.Findings)
		}
	}
}

// Found by a hostile review of issue 11: the AWS managed key named explicitly (alias/aws/s3) is judged
// "this account's own key" and kept (low), while the same key left implicit
// is replaced (medium): docs say "the AWS managed key aws/s3 is replaced".
func TestExplicitAWSManagedKeyIsReplaced(t *testing.T) {
	implicit := rvPlan(posture.Encryption{Algorithm: "aws:kms"}, nil)
	for _, key := range []string{"alias/aws/s3", "arn:aws:kms:eu-west-1:111122223333:alias/aws/s3"} {
		explicit := rvPlan(posture.Encryption{Algorithm: "aws:kms", KMSKeyID: key}, nil)
		if rvReplaces(implicit) != rvReplaces(explicit) {
			t.Errorf("%s: replaced=%v, implicit aws/s3 replaced=%v; findings %+v", key, rvReplaces(explicit), rvReplaces(implicit), explicit.Findings)
		}
	}
}
