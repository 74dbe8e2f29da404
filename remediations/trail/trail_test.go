package trail_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/bucketguard/bucketguard/remediations/trail"
)

var (
	on, off = aws.Bool(true), aws.Bool(false)
	allMgmt = &trail.Selectors{Classic: []trail.Classic{{ReadWriteType: "All", IncludeManagementEvents: on}}}
)

func advanced(fields ...trail.Field) *trail.Selectors {
	return &trail.Selectors{Advanced: []trail.Advanced{{Name: "management", Fields: fields}}}
}

func TestManagementWrites(t *testing.T) {
	category := trail.Field{Field: "eventCategory", Equals: []string{"Management"}}
	for _, tc := range []struct {
		name string
		s    trail.Selectors
		want bool
	}{
		{"classic all", *allMgmt, true},
		{"classic write only", trail.Selectors{Classic: []trail.Classic{{ReadWriteType: "WriteOnly"}}}, true},
		{"classic defaults", trail.Selectors{Classic: []trail.Classic{{}}}, true},
		{"classic read only", trail.Selectors{Classic: []trail.Classic{{ReadWriteType: "ReadOnly", IncludeManagementEvents: on}}}, false},
		{"classic data events only", trail.Selectors{Classic: []trail.Classic{{ReadWriteType: "All", IncludeManagementEvents: off}}}, false},
		{"classic: one of two", trail.Selectors{Classic: []trail.Classic{{ReadWriteType: "ReadOnly"}, {ReadWriteType: "WriteOnly"}}}, true},
		{"advanced management", *advanced(category), true},
		{"advanced management, writes", *advanced(category, trail.Field{Field: "readOnly", Equals: []string{"false"}}), true},
		{"advanced management, reads only", *advanced(category, trail.Field{Field: "readOnly", Equals: []string{"true"}}), false},
		{"advanced management, not writes", *advanced(category, trail.Field{Field: "readOnly", NotEquals: []string{"false"}}), false},
		{"advanced management, not reads", *advanced(category, trail.Field{Field: "readOnly", NotEquals: []string{"true"}}), true},
		{"advanced data events", *advanced(trail.Field{Field: "eventCategory", Equals: []string{"Data"}}, trail.Field{Field: "resources.type", Equals: []string{"AWS::S3::Object"}}), false},
		{"no selector", trail.Selectors{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.s.ManagementWrites(); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestJudge(t *testing.T) {
	regions := []string{"eu-west-1", "us-east-1"}
	multi := trail.Trail{Name: "org", MultiRegion: true, Organization: true, HomeRegion: "us-east-1", Logging: on, Selectors: allMgmt}
	home := trail.Trail{Name: "eu", HomeRegion: "eu-west-1", Logging: on, Selectors: allMgmt}
	stopped := multi
	stopped.Logging = off
	readOnly := multi
	readOnly.Selectors = advanced(trail.Field{Field: "eventCategory", Equals: []string{"Management"}}, trail.Field{Field: "readOnly", Equals: []string{"true"}})
	unread := trail.Trail{Name: "org", MultiRegion: true, Organization: true, HomeRegion: "us-east-1", Unread: "AccessDenied"}
	for _, tc := range []struct {
		name   string
		trails []trail.Trail
		want   map[string]string // gap region → a reason it names
	}{
		{"a logging multi-region trail", []trail.Trail{multi}, nil},
		{"no trail", nil, map[string]string{"eu-west-1": "no trail", "us-east-1": "no trail"}},
		{"stopped", []trail.Trail{stopped}, map[string]string{"eu-west-1": "is not logging", "us-east-1": "is not logging"}},
		{"read-only selectors", []trail.Trail{readOnly}, map[string]string{"eu-west-1": "no management write events", "us-east-1": "no management write events"}},
		{"a single-region trail covers its home only", []trail.Trail{home}, map[string]string{"us-east-1": "logs eu-west-1 only"}},
		{"stopped, but another covers", []trail.Trail{stopped, home}, map[string]string{"us-east-1": "is not logging"}},
		{"unread is not covering", []trail.Trail{unread}, map[string]string{"eu-west-1": "AccessDenied", "us-east-1": "could not be read"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gaps := trail.Judge(tc.trails, regions)
			if len(gaps) != len(tc.want) {
				t.Fatalf("got gaps %+v, want %v", gaps, tc.want)
			}
			for _, g := range gaps {
				why, ok := tc.want[g.Region]
				if !ok || !strings.Contains(strings.Join(g.Why, "; "), why) {
					t.Errorf("gap %+v, want one in %s naming %q", g, g.Region, why)
				}
			}
		})
	}
}

// client is a fake of the three reads: trails by ARN, a fault per call.
type client struct {
	trails    []types.Trail
	logging   map[string]bool
	selectors map[string]*cloudtrail.GetEventSelectorsOutput
	statusErr error
}

func (c *client) DescribeTrails(_ context.Context, in *cloudtrail.DescribeTrailsInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.DescribeTrailsOutput, error) {
	if !aws.ToBool(in.IncludeShadowTrails) {
		return nil, errors.New("shadow trails left out")
	}
	return &cloudtrail.DescribeTrailsOutput{TrailList: c.trails}, nil
}

func (c *client) GetTrailStatus(_ context.Context, in *cloudtrail.GetTrailStatusInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailStatusOutput, error) {
	if c.statusErr != nil {
		return nil, c.statusErr
	}
	return &cloudtrail.GetTrailStatusOutput{IsLogging: aws.Bool(c.logging[aws.ToString(in.Name)])}, nil
}

func (c *client) GetEventSelectors(_ context.Context, in *cloudtrail.GetEventSelectorsInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.GetEventSelectorsOutput, error) {
	return c.selectors[aws.ToString(in.TrailName)], nil
}

func TestRead(t *testing.T) {
	const arn = "arn:aws:cloudtrail:us-east-1:111122223333:trail/org"
	c := &client{
		trails:  []types.Trail{{Name: aws.String("org"), TrailARN: aws.String(arn), HomeRegion: aws.String("us-east-1"), IsMultiRegionTrail: on, IsOrganizationTrail: on}},
		logging: map[string]bool{arn: true},
		selectors: map[string]*cloudtrail.GetEventSelectorsOutput{arn: {AdvancedEventSelectors: []types.AdvancedEventSelector{{
			Name: aws.String("management"), FieldSelectors: []types.AdvancedFieldSelector{{Field: aws.String("eventCategory"), Equals: []string{"Management"}}}}}}},
	}
	ts, err := trail.Read(context.Background(), func(string) trail.Client { return c }, []string{"eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	if gaps := trail.Judge(ts, []string{"eu-west-1"}); len(ts) != 1 || len(gaps) != 0 {
		t.Fatalf("trails %+v, gaps %+v", ts, gaps)
	}
	c.statusErr = errors.New("AccessDenied")
	ts, err = trail.Read(context.Background(), func(string) trail.Client { return c }, []string{"eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	if gaps := trail.Judge(ts, []string{"eu-west-1"}); len(gaps) != 1 || !strings.Contains(gaps[0].Why[0], "AccessDenied") {
		t.Errorf("an unread status: gaps %+v", gaps)
	}
}

// Each region with a stack is asked for its trails: a single-region trail
// is listed only in its own region, so a region covered by its own trail
// is no gap; a multi-region trail listed in both regions is read once.
func TestReadAsksEveryRegion(t *testing.T) {
	mgmt := &cloudtrail.GetEventSelectorsOutput{EventSelectors: []types.EventSelector{{ReadWriteType: types.ReadWriteTypeAll, IncludeManagementEvents: on}}}
	const euARN = "arn:aws:cloudtrail:eu-west-1:111122223333:trail/eu"
	const usARN = "arn:aws:cloudtrail:us-east-1:111122223333:trail/us"
	const allARN = "arn:aws:cloudtrail:eu-west-1:111122223333:trail/all"
	all := types.Trail{Name: aws.String("all"), TrailARN: aws.String(allARN), HomeRegion: aws.String("eu-west-1"), IsMultiRegionTrail: on}
	regional := map[string]*client{
		"eu-west-1": {trails: []types.Trail{{Name: aws.String("eu"), TrailARN: aws.String(euARN), HomeRegion: aws.String("eu-west-1")}, all},
			logging: map[string]bool{euARN: true}, selectors: map[string]*cloudtrail.GetEventSelectorsOutput{euARN: mgmt, allARN: mgmt}},
		"us-east-1": {trails: []types.Trail{{Name: aws.String("us"), TrailARN: aws.String(usARN), HomeRegion: aws.String("us-east-1")}, all},
			logging: map[string]bool{usARN: true}, selectors: map[string]*cloudtrail.GetEventSelectorsOutput{usARN: mgmt, allARN: mgmt}},
	}
	ts, err := trail.Read(context.Background(), func(r string) trail.Client { return regional[r] }, []string{"eu-west-1", "us-east-1", "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 3 {
		t.Fatalf("%d trails, want each once: %+v", len(ts), ts)
	}
	if gaps := trail.Judge(ts, []string{"eu-west-1", "us-east-1"}); len(gaps) != 0 {
		t.Errorf("gaps %+v: each region has its own logging trail", gaps)
	}
	// Asked from the home region only, us-east-1's own trail is not seen.
	home, err := trail.Read(context.Background(), func(r string) trail.Client { return regional["eu-west-1"] }, []string{"eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	if gaps := trail.Judge(home, []string{"eu-west-1", "us-east-1"}); len(gaps) != 1 || gaps[0].Region != "us-east-1" {
		t.Errorf("gaps %+v", gaps)
	}
}
