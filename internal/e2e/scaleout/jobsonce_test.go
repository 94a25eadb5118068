package scaleout

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/strongroom-dev/strongroom/internal/e2e/e2eutil"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/service"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// TestLifecycleOnceAcrossNodes: three nodes on one PostgreSQL database
// look for due jobs at the same moments (as their tickers do); each due
// time gets one lifecycle pass in the cluster, which expires every
// object once, whichever node runs it.
func TestLifecycleOnceAcrossNodes(t *testing.T) {
	ctx := context.Background()
	url := pgDB(t)
	clk := &e2eutil.Clock{}
	nodes := []*testnode.Node{testnode.Start(t, testnode.Options{Meta: url, Now: clk.Now})}
	for range 2 {
		nodes = append(nodes, startWithRootOf(t, nodes[0], testnode.Options{Meta: url, Now: clk.Now}))
	}
	c := pgClient(nodes[0])
	const bucket = "lifecycle-once"
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{
		Bucket: aws.String(bucket),
		LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: []types.LifecycleRule{{
			ID: aws.String("tmp"), Status: types.ExpirationStatusEnabled,
			Filter:     &types.LifecycleRuleFilter{Prefix: aws.String("tmp/")},
			Expiration: &types.LifecycleExpiration{Days: aws.Int32(1)},
		}}},
	}); err != nil {
		t.Fatal(err)
	}
	expired := 0
	for round := 1; round <= 3; round++ {
		for i := range 4 {
			key := fmt.Sprintf("tmp/%d-%d", round, i)
			if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(key)}); err != nil {
				t.Fatal(err)
			}
		}
		expired += 4
		clk.Add(49 * time.Hour) // the objects are due, and so is the pass
		var wg sync.WaitGroup
		for _, n := range nodes {
			wg.Go(func() { n.Jobs.RunDue(ctx) })
		}
		wg.Wait()
		j, err := nodes[0].Meta().(meta.Jobs).GetJob(ctx, service.LifecycleJob)
		if err != nil {
			t.Fatal(err)
		}
		if j.Passes != int64(round) || j.Total["expired"] != int64(expired) || j.Holder != "" {
			t.Fatalf("round %d: %d passes, %d expired, holder %q; want %d, %d, none", round, j.Passes, j.Total["expired"], j.Holder, round, expired)
		}
		list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
		if err != nil || len(list.Contents) != 0 {
			t.Fatalf("round %d: left after the pass %d objects (%v)", round, len(list.Contents), err)
		}
	}
}
