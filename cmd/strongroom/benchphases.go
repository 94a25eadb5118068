package main

import (
	"flag"
	"strings"

	"github.com/strongroom-dev/strongroom/internal/bench"
)

// bindBenchPhaseFlags defines the flags of the bench's named phases.
func bindBenchPhaseFlags(fs *flag.FlagSet, cfg *bench.Config) {
	fs.IntVar(&cfg.KeyJobObjects, "keyjob-objects", bench.DefaultKeyJobObjects,
		"keyjobs phase: objects the rewrap runs over (re-encrypt: a tenth as many, of 256 KiB); the issue's figure is over 100000")
	fs.IntVar(&cfg.KMSRounds, "kms-rounds", 7, "kms phase: rounds each SSE-KMS phase is split into, taking turns across the providers; a provider's ratio to builtin is the median of its rounds'")
}

// benchOnly reads --only: object sizes, and the named phases
//
//	kms      SSE-KMS PUT/GET of the small and large sizes, with and without
//	         bucket keys, on the builtin keyring and on a SoftHSM2 token and
//	         a PyKMIP server the bench starts (ratios to builtin)
//	keyjobs  rewrap and re-encrypt rates
//
// A run of named phases only skips the other figures.
func benchOnly(only string, fs *flag.FlagSet, cfg *bench.Config) error {
	if only == "" {
		return nil
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	sizes := false
	for _, o := range strings.Split(only, ",") {
		switch o = strings.TrimSpace(o); o {
		case "kms":
			cfg.KMSProviders = true
			cfg.Only = append(cfg.Only, cfg.SmallSize, cfg.LargeSize)
			sizes = true
			if !set["sse"] {
				cfg.Modes = nil
				for _, name := range []string{"sse-kms", "sse-kms-bk"} {
					m, err := bench.LookupMode(name)
					if err != nil {
						return err
					}
					cfg.Modes = append(cfg.Modes, m)
				}
			}
		case "keyjobs":
			cfg.KeyJobs = true
		default:
			n, err := parseSize(o)
			if err != nil {
				return err
			}
			cfg.Only = append(cfg.Only, int(n))
			sizes = true
		}
	}
	cfg.SkipFigures = !sizes
	return nil
}
