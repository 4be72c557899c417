package importapi

import (
	"context"
	"fmt"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/stagesync/stagesync/stagesync"
)

// Import loads the snapshot in dir into the destination of cfg through the
// same engine as a sync: cfg.Source and cfg.SourceSchema are set to the
// snapshot (see OpenSource) and stagesync.Sync runs, with its identity map,
// relation order, publish state, locales and schema pre-flight against the
// destination. The whole snapshot is parsed and checked before anything is
// read from or written to the destination; run again with the same state,
// it writes nothing. NDF files without a manifest (a plain legacy export)
// are read against the destination's schema. cfg.Models defaults to the snapshot's models. A
// snapshot with asset files copies them when the sync copies the Asset model
// (cfg.Assets; on the legacy asset system cfg.Assets.Files is the
// destination's bucket) unless cfg.SkipAssets.
func Import(ctx context.Context, dir string, cfg stagesync.SyncConfig) (*stagesync.Report, *stagesync.Plan, error) {
	var src *Source
	var err error
	if HasManifest(dir) {
		src, err = OpenSource(ctx, dir)
	} else {
		// A plain legacy export: read against the destination's schema.
		var s *ast.Schema
		if _, s, err = stagesync.StageProject(ctx, cfg.Dest, cfg.DestSchema); err == nil {
			src, err = OpenSourceWithSchema(ctx, dir, s)
		}
	}
	if err != nil {
		return nil, nil, err
	}
	defer src.Close()
	cfg.Source, cfg.SourceSchema = src.Stage, src.Schema
	if len(cfg.Models) == 0 && len(cfg.Typed) == 0 {
		for _, m := range src.Manifest.Models {
			if m != AssetModel { // copied by the sync's Asset model, with its files
				cfg.Models = append(cfg.Models, m)
			}
		}
	}
	if files := src.AssetFiles(); files != nil && !cfg.SkipAssets {
		if cfg.Assets == nil {
			cfg.Assets = &stagesync.AssetOptions{}
		}
		if cfg.Assets.SourceFiles == nil {
			a := *cfg.Assets
			a.SourceFiles = files
			cfg.Assets = &a
		}
	}
	report, plan, err := stagesync.Sync(ctx, cfg)
	if err != nil {
		return report, plan, fmt.Errorf("importapi: importing %s: %w", dir, err)
	}
	return report, plan, nil
}
