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

// A key named by an alias (S3 stores KMSMasterKeyID as given: key id, key
// aRN, alias name or alias ARN) is kept, also with accepted keys set:
// re-keying would make the team's uploads need the central key
// (kms:GenerateDataKey), an outage for writers. The same for the central
// key named by its alias.
func TestKeyByAliasIsKept(t *testing.T) {
	for _, key := range []string{"alias/team-key", "arn:aws:kms:eu-west-1:111122223333:alias/team-key", "alias/bucketguard-central"} {
		if p := rvPlan(posture.Encryption{Algorithm: "aws:kms", KMSKeyID: key}, []string{rvTeam}); rvReplaces(p) {
			t.Errorf("%s: replaced with the central key although it may be the accepted (or the central) key; findings %+v", key, p.Findings)
		}
	}
}

// The AWS managed key named explicitly (alias/aws/s3) is the AWS managed
// key, replaced as when it is left implicit.
func TestExplicitAWSManagedKeyIsReplaced(t *testing.T) {
	implicit := rvPlan(posture.Encryption{Algorithm: "aws:kms"}, nil)
	for _, key := range []string{"alias/aws/s3", "arn:aws:kms:eu-west-1:111122223333:alias/aws/s3"} {
		explicit := rvPlan(posture.Encryption{Algorithm: "aws:kms", KMSKeyID: key}, nil)
		if rvReplaces(implicit) != rvReplaces(explicit) {
			t.Errorf("%s: replaced=%v, implicit aws/s3 replaced=%v; findings %+v", key, rvReplaces(explicit), rvReplaces(implicit), explicit.Findings)
		}
	}
}
