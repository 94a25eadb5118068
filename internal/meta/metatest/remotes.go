package metatest

import (
	"context"
	"errors"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

func testRemotes(t *testing.T, be Backend) {
	s := be.Open(t).(meta.Remotes)
	ctx := context.Background()
	if _, err := s.GetRemote(ctx, "eu"); !errors.Is(err, meta.ErrNoSuchRemote) {
		t.Fatalf("get before put: %v, want ErrNoSuchRemote", err)
	}
	for _, name := range []string{"us", "eu"} {
		if err := s.PutRemote(ctx, &meta.Remote{Name: name, URL: "http://127.0.0.1:1", AccessKey: "AK" + name, SealedSecret: []byte{1, 2}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutRemote(ctx, &meta.Remote{Name: "eu", URL: "https://127.0.0.1:2", AccessKey: "AK2", Insecure: true}); err != nil {
		t.Fatal(err)
	}
	r, err := s.GetRemote(ctx, "eu")
	if err != nil || r.URL != "https://127.0.0.1:2" || !r.Insecure || r.AccessKey != "AK2" {
		t.Fatalf("replaced remote = %+v, %v", r, err)
	}
	list, err := s.ListRemotes(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "eu" || list[1].Name != "us" {
		t.Fatalf("list = %+v, %v; want eu, us", list, err)
	}
	if err := s.DeleteRemote(ctx, "eu"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRemote(ctx, "eu"); !errors.Is(err, meta.ErrNoSuchRemote) {
		t.Fatalf("second delete: %v, want ErrNoSuchRemote", err)
	}
	if err := s.PutRemote(ctx, &meta.Remote{}); !errors.Is(err, meta.ErrInvalid) {
		t.Fatalf("nameless remote: %v, want meta.ErrInvalid", err)
	}
}
