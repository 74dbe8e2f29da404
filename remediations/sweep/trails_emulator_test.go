//go:build integration

package sweep_test

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/emulator"
	"github.com/bucketguard/bucketguard/remediations/sweep"
	"github.com/bucketguard/bucketguard/remediations/trail"
)

// The home sweep's trail check on the emulator: a multi-region trail that
// logs management events tells nothing; once StopLogging is called, the
// next run tells the operations topic, as critical.
func TestTrailCheckOnTheEmulator(t *testing.T) {
	w := newWorld(t, nil)
	ops, opsInbox, err := emulator.Inbox(w.ctx, w.e.Direct, "bucketguard-ops", "ops-inbox")
	if err != nil {
		t.Fatal(err)
	}
	w.h.Incidents.Alerts.OpsTopicARN = ops
	w.h.StackRegions = []string{w.e.Region}
	w.h.Trails = func(string) trail.Client { return cloudtrail.NewFromConfig(w.e.Clients.Config) }
	direct := cloudtrail.NewFromConfig(w.e.Direct.Config)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.scene.CreateBucket(w.ctx, "acme-trail-logs"))
	_, err = direct.CreateTrail(w.ctx, &cloudtrail.CreateTrailInput{Name: aws.String("management"), S3BucketName: aws.String("acme-trail-logs"), IsMultiRegionTrail: aws.Bool(true)})
	must(err)
	// AWS gives a new trail its default selector; moto gives none, so it
	// is set as AWS sets it.
	_, err = direct.PutEventSelectors(w.ctx, &cloudtrail.PutEventSelectorsInput{TrailName: aws.String("management"),
		EventSelectors: []cttypes.EventSelector{{ReadWriteType: cttypes.ReadWriteTypeAll, IncludeManagementEvents: aws.Bool(true)}}})
	must(err)
	_, err = direct.StartLogging(w.ctx, &cloudtrail.StartLoggingInput{Name: aws.String("management")})
	must(err)

	notices := func(run string) []map[string]any {
		t.Helper()
		must(w.h.Handle(lambdaCtx(run), []byte(`{"detail-type":"Scheduled Event","source":"aws.events","detail":{}}`)))
		ns, err := emulator.Drain(w.ctx, w.e.Direct, opsInbox)
		must(err)
		var out []map[string]any
		for _, n := range ns {
			if n.Attribute("kind") != contract.KindTrail {
				continue
			}
			if n.Attribute("severity") != "critical" {
				t.Errorf("trail notice severity %q", n.Attribute("severity"))
			}
			var d map[string]any
			must(json.Unmarshal([]byte(n.Message), &d))
			out = append(out, d)
		}
		return out
	}
	if got := notices("run-logging"); len(got) != 0 {
		t.Fatalf("a logging trail: notices %v", got)
	}
	_, err = direct.StopLogging(w.ctx, &cloudtrail.StopLoggingInput{Name: aws.String("management")})
	must(err)
	got := notices("run-stopped")
	if len(got) != 1 || got[0]["schema"] != sweep.TrailSchema {
		t.Fatalf("after StopLogging: notices %v", got)
	}
	if gaps, _ := got[0]["gaps"].([]any); len(gaps) != 1 || gaps[0].(map[string]any)["region"] != w.e.Region {
		t.Errorf("gaps %v", got[0]["gaps"])
	}
}
