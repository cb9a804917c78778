//! The tunnel under criterion: the same code `conform bench tunnel` runs, one figure per
//! function. `cargo bench -p harness --bench tunnel`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use scenarios::steps::LARGE;

#[allow(dead_code)]
#[path = "../src/commands/bench/mod.rs"]
mod bench;

/// What `bench/mod.rs` asks of its parent module.
#[allow(dead_code)]
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

const BASELINE_BYTES: usize = 16 * 1024 * 1024;

fn tunnel(c: &mut Criterion) {
    let Ok(rt) = runtime() else {
        return;
    };
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let mut group = c.benchmark_group("tunnel");
    group.sample_size(10);

    group.throughput(Throughput::Bytes(BASELINE_BYTES as u64));
    group.bench_function("baseline_tls12", |b| {
        b.iter(|| black_box(rt.block_on(bench::baseline_tls12(BASELINE_BYTES)).ok()))
    });

    let Ok((env, _sink)) = rt.block_on(bench::connected_to_sink()) else {
        return;
    };
    let dms = env.accounts().dms_id.clone();
    let cloud = env.cloud().clone();

    group.throughput(Throughput::Bytes(LARGE as u64));
    group.bench_function("large_answer", |b| {
        b.iter(|| black_box(rt.block_on(bench::fetch(&cloud, &dms, "/large")).ok()))
    });
    group.throughput(Throughput::Bytes(1024));
    group.bench_function("kib_answer", |b| {
        b.iter(|| black_box(rt.block_on(bench::fetch(&cloud, &dms, "/kib")).ok()))
    });
    rt.block_on(env.stop());

    // The full path: a recipient's HTTPS calls through the sharing front end.
    let Ok(session) = rt.block_on(bench::fullpath::Session::start()) else {
        group.finish();
        return;
    };
    let bulk = rt
        .block_on(session.trend(bench::fullpath::BULK_POINTS))
        .map_or(0, |r| r.bytes);
    group.throughput(Throughput::Bytes(bulk));
    group.bench_function("full_path_bulk", |b| {
        b.iter(|| {
            black_box(
                rt.block_on(session.trend(bench::fullpath::BULK_POINTS))
                    .ok(),
            )
        })
    });
    group.throughput(Throughput::Bytes(1024));
    group.bench_function("full_path_kib", |b| {
        b.iter(|| black_box(rt.block_on(session.trend(bench::fullpath::KIB_POINTS)).ok()))
    });
    group.finish();
    rt.block_on(session.stop());
}

criterion_group!(benches, tunnel);
criterion_main!(benches);
