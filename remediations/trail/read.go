package trail

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
)

// Client is the three reads the check makes: no trail is ever written.
type Client interface {
	DescribeTrails(context.Context, *cloudtrail.DescribeTrailsInput, ...func(*cloudtrail.Options)) (*cloudtrail.DescribeTrailsOutput, error)
	GetTrailStatus(context.Context, *cloudtrail.GetTrailStatusInput, ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailStatusOutput, error)
	GetEventSelectors(context.Context, *cloudtrail.GetEventSelectorsInput, ...func(*cloudtrail.Options)) (*cloudtrail.GetEventSelectorsOutput, error)
}

var _ Client = (*cloudtrail.Client)(nil)

// Regional returns the client of a region.
type Regional func(region string) Client

// Read lists the trails each region sees, organization trails and other
// regions' multi-region trails included (shadow trails), each once (by
// ARN) with its status and event selectors, read in the first region that
// lists it. A single-region trail is listed only in its own region, so
// every region with a stack is asked. A failure to list is returned; a
// trail whose status or selectors cannot be read is kept, unread
// (Trail.Unread), and counts as not covering.
// https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_DescribeTrails.html
func Read(ctx context.Context, clients Regional, regions []string) ([]Trail, error) {
	var trails []Trail
	seen := map[string]bool{}
	asked := map[string]bool{}
	for _, region := range regions {
		if asked[region] {
			continue
		}
		asked[region] = true
		c := clients(region)
		out, err := c.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{IncludeShadowTrails: aws.Bool(true)})
		if err != nil {
			return nil, fmt.Errorf("describe trails in %s: %w", region, err)
		}
		for _, d := range out.TrailList {
			t := Trail{Name: aws.ToString(d.Name), ARN: aws.ToString(d.TrailARN), HomeRegion: aws.ToString(d.HomeRegion),
				MultiRegion: aws.ToBool(d.IsMultiRegionTrail), Organization: aws.ToBool(d.IsOrganizationTrail)}
			key := t.ARN
			if key == "" {
				key = t.HomeRegion + "/" + t.Name
			}
			if seen[key] {
				continue
			}
			seen[key] = true
			trails = append(trails, readOne(ctx, c, t, d.Name))
		}
	}
	return trails, nil
}

// readOne reads a trail's status and selectors, by ARN (an organization
// trail seen from a member account has no name there).
func readOne(ctx context.Context, c Client, t Trail, name *string) Trail {
	id := aws.String(t.ARN)
	if t.ARN == "" {
		id = name
	}
	var errs []error
	if st, err := c.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: id}); err != nil {
		errs = append(errs, fmt.Errorf("get trail status %s: %w", t.Name, err))
	} else {
		t.Logging = aws.Bool(aws.ToBool(st.IsLogging))
	}
	if sel, err := c.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: id}); err != nil {
		errs = append(errs, fmt.Errorf("get event selectors %s: %w", t.Name, err))
	} else {
		t.Selectors = selectors(sel)
	}
	if err := errors.Join(errs...); err != nil {
		t.Unread = err.Error()
	}
	return t
}

func selectors(out *cloudtrail.GetEventSelectorsOutput) *Selectors {
	s := &Selectors{}
	for _, e := range out.EventSelectors {
		s.Classic = append(s.Classic, Classic{ReadWriteType: string(e.ReadWriteType), IncludeManagementEvents: e.IncludeManagementEvents})
	}
	for _, a := range out.AdvancedEventSelectors {
		s.Advanced = append(s.Advanced, Advanced{Name: aws.ToString(a.Name), Fields: fields(a.FieldSelectors)})
	}
	return s
}

func fields(fs []types.AdvancedFieldSelector) []Field {
	out := make([]Field, len(fs))
	for i, f := range fs {
		out[i] = Field{Field: aws.ToString(f.Field), Equals: f.Equals, NotEquals: f.NotEquals}
	}
	return out
}
