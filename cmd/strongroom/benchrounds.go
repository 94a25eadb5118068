package main

import (
	"flag"

	"github.com/strongroom-dev/strongroom/internal/bench"
)

// bindRoundFlags adds the interleaved rounds' flags to strongroom bench.
func bindRoundFlags(fs *flag.FlagSet, cfg *bench.Config) {
	fs.IntVar(&cfg.Rounds, "rounds", 0, "after the figures, this many short interleaved rounds of the small size (durable-create, each mode's PUT, each mode's GET), reporting median ratios: PUT to durable-create, each mode to the first (e.g. --sse none,sse-s3,sse-kms-bk --rounds 7)")
	fs.DurationVar(&cfg.RoundDuration, "round-duration", 0, "duration of each phase of an interleaved round (default 1s)")
}
