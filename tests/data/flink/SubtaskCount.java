import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.java.ExecutionEnvironment;
import org.apache.flink.api.java.tuple.Tuple2;

/**
 * A Flink batch job on the DataSet API, which Beam's Flink runner translates batch
 * pipelines to: counts how many of the numbers 1..N each parallel subtask of a map
 * handled (round-robin, so every subtask gets N / parallelism) and writes
 * "subtask,count" lines under OUTPUT.
 *
 * <p>Usage: SubtaskCount N OUTPUT. tests/pipeline/test_flink_cluster.py compiles it
 * against the local cluster's jars and submits it with Flink's own client.
 */
public class SubtaskCount {
  public static void main(String[] args) throws Exception {
    long n = Long.parseLong(args[0]);
    ExecutionEnvironment env = ExecutionEnvironment.getExecutionEnvironment();
    env.generateSequence(1, n)
        .rebalance()
        .map(new SubtaskOf())
        .groupBy(0)
        .sum(1)
        .writeAsCsv(args[1]);
    env.execute("activespec SubtaskCount");
  }

  /** (index of the subtask that saw the number, 1). */
  public static class SubtaskOf extends RichMapFunction<Long, Tuple2<Integer, Long>> {
    @Override
    public Tuple2<Integer, Long> map(Long value) {
      return Tuple2.of(getRuntimeContext().getIndexOfThisSubtask(), 1L);
    }
  }
}
