// Meshy for Blender: a Flamenco 3 job type, on paper (not run in CI; see README.md here).
// The same job as pipelines/openjd/meshy_batch.yaml: one task per shard of the manifest, then one
// task that assembles every shard's batch.blend into OUTPUT_DIR/assembled.blend.
// The API key is never a job setting: workers read MESHY_API_KEY from their own environment.

const JOB_TYPE = {
    label: "Meshy Batch",
    description: "Generate the assets of a Meshy batch manifest in shards, then assemble them into one .blend",
    settings: [
        { key: "manifest", type: "string", subtype: "file_path", required: true,
          description: "The batch manifest (JSON Lines or CSV); its relative file paths are read beside it" },
        { key: "output_dir", type: "string", subtype: "dir_path", required: true,
          description: "Holds shard-1 … shard-N (each a batch output) and assembled.blend" },
        { key: "shards", type: "int32", default: 4, propargs: { min: 1, max: 1000 },
          description: "Tasks that generate; each gets rows K, K+N, … and its share of the account's queue" },
        { key: "max_credits", type: "int32", default: 0, propargs: { min: 0 },
          description: "Credits the whole job may spend, shared evenly by the shards; 0: no budget" },
        { key: "keep_in_library", type: "bool", default: false,
          description: "Also keep each result in the Meshy library of the worker's user (a farm node's is nobody's)" },
    ],
};

function compileJob(job) {
    const settings = job.settings;
    const meshy = ["-b", "--online-mode", "-c", "meshy"];
    const shardDir = (index) => path.join(settings.output_dir, `shard-${index}`);

    const generated = [];
    for (let index = 1; index <= settings.shards; index++) {
        const args = meshy.concat(["batch", settings.manifest, "--out-dir", shardDir(index),
                                   "--shard", `${index}/${settings.shards}`]);
        if (settings.max_credits > 0) {
            args.push("--max-credits", String(Math.floor(settings.max_credits / settings.shards)));
        }
        if (!settings.keep_in_library) {
            args.push("--no-library");
        }
        const task = author.Task(`generate-${index}`, "blender");
        task.addCommand(author.Command("exec", { exe: "{blender}", args: args }));
        job.addTask(task);
        generated.push(task);
    }

    const dirs = [];
    for (let index = 1; index <= settings.shards; index++) {
        dirs.push(shardDir(index));
    }
    const assemble = author.Task("assemble", "blender");
    assemble.addCommand(author.Command("exec", {
        exe: "{blender}",
        args: meshy.concat(["assemble"], dirs, ["-o", path.join(settings.output_dir, "assembled.blend")]),
    }));
    for (const task of generated) {
        assemble.addDependency(task);
    }
    job.addTask(assemble);
}
