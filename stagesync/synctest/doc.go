// Package synctest helps test what a stagesync project writes itself: the
// transforms of its typed models, and the models' syncs. It works offline,
// on fixtures — entries recorded from a real stage with the model's own read
// operation (`stagesync fixtures record`) — and on stages emulated by
// stagetest.
//
// A table test of a transform loads the fixtures, applies the transform to
// each the way Sync does, and compares the results with a golden file:
//
//	func TestTransformHotel(t *testing.T) {
//		hotels := synctest.LoadFixtures[Hotel](t, "testdata/hotels.json")
//		got := synctest.ApplyTransform(t, hotels, transformHotel)
//		synctest.Golden(t, "testdata/hotels.golden.json", got)
//	}
//
// `go test -update` rewrites the golden files instead of comparing with
// them. synctest defines that -update flag for every test binary that
// imports it (unless another package defined it first), so such a test
// package must not define its own: it calls Updating instead.
//
// SyncModel runs a model's whole sync — read, transform, plan, write,
// publish — from an emulated source stage seeded with fixtures (SeedStage)
// to an emulated destination, and returns both stages, the report and the
// plan:
//
//	res := synctest.SyncModel(t, synctest.Spec[Hotel]{
//		Model:        HotelModel(transformHotel),
//		Fixtures:     hotels,
//		SourceSchema: delta, DestSchema: master,
//		Configure:    func(c *stagesync.SyncConfig) { c.Handled = []string{"Hotel.twitterHandle"} },
//	})
//	if !res.Report.OK() { ... }
//	for _, d := range res.Differences(t) { ... }
package synctest
