package sweep_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/sweep"
	"github.com/bucketguard/bucketguard/remediations/trail"
)

const opsTopic = "arn:aws:sns:eu-west-1:111122223333:ops"

// trails is a counting fake of the trail reads: one multi-region trail.
type trails struct {
	mu      sync.Mutex
	calls   int
	logging bool
}

const trailARN = "arn:aws:cloudtrail:eu-west-1:111122223333:trail/management"

func (f *trails) DescribeTrails(context.Context, *cloudtrail.DescribeTrailsInput, ...func(*cloudtrail.Options)) (*cloudtrail.DescribeTrailsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return &cloudtrail.DescribeTrailsOutput{TrailList: []types.Trail{{Name: aws.String("management"), TrailARN: aws.String(trailARN),
		HomeRegion: aws.String("eu-west-1"), IsMultiRegionTrail: aws.Bool(true)}}}, nil
}

func (f *trails) GetTrailStatus(context.Context, *cloudtrail.GetTrailStatusInput, ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailStatusOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return &cloudtrail.GetTrailStatusOutput{IsLogging: aws.Bool(f.logging)}, nil
}

func (f *trails) GetEventSelectors(context.Context, *cloudtrail.GetEventSelectorsInput, ...func(*cloudtrail.Options)) (*cloudtrail.GetEventSelectorsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return &cloudtrail.GetEventSelectorsOutput{EventSelectors: []types.EventSelector{{ReadWriteType: types.ReadWriteTypeAll, IncludeManagementEvents: aws.Bool(true)}}}, nil
}

// The home sweep reads the trails once a run and tells the operations
// topic, as critical, when none is logging in a region with a stack; the
// other regions' sweeps leave the trails to it.
func TestTrailCheck(t *testing.T) {
	for _, tc := range []struct {
		name    string
		stacks  []string
		logging bool
		reads   bool
		notice  bool
	}{
		{"home, logging", []string{"eu-west-1", "us-east-1"}, true, true, false},
		{"home, stopped", []string{"eu-west-1", "us-east-1"}, false, true, true},
		{"not home", []string{"us-east-1", "eu-west-1"}, false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := account(3)
			cfg := config.Default()
			cfg.Mode, cfg.OpsTopicARN = config.Notify, opsTopic
			h := handler(f, &invoker{}, nil)
			h.Incidents = wire(cfg, f, nil)
			h.StackRegions = tc.stacks
			tr := &trails{logging: tc.logging}
			h.Trails = func(string) trail.Client { return tr }
			if err := h.Handle(lambdaCtx("run-trail"), []byte(`{"detail-type":"Scheduled Event"}`)); err != nil {
				t.Fatal(err)
			}
			if (tr.calls > 0) != tc.reads {
				t.Errorf("%d trail reads; want reads %v", tr.calls, tc.reads)
			}
			var notices []string
			for _, p := range f.Published() {
				if p.Attributes["kind"] == contract.KindTrail {
					if p.TopicARN != opsTopic || p.Attributes["severity"] != "critical" {
						t.Errorf("trail notice to %s, severity %q", p.TopicARN, p.Attributes["severity"])
					}
					notices = append(notices, jsonMessage(t, p.Message))
				}
			}
			if (len(notices) == 1) != tc.notice || len(notices) > 1 {
				t.Fatalf("%d trail notices, want notice %v", len(notices), tc.notice)
			}
			if !tc.notice {
				return
			}
			var d struct {
				Schema string
				Gaps   []struct {
					Region string
					Why    []string
				}
			}
			if err := json.Unmarshal([]byte(notices[0]), &d); err != nil {
				t.Fatal(err)
			}
			if d.Schema != sweep.TrailSchema || len(d.Gaps) != 2 || !strings.Contains(d.Gaps[0].Why[0], "management is not logging") {
				t.Errorf("notice %s", notices[0])
			}
		})
	}
}
