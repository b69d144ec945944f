// Kafka's own murmur2, run for real, so ebb's C++ port (src/partition/hashes.cpp) is checked against
// the Java producer rather than against numbers copied from somewhere:
//   java -cp "$EBB_CACHE/kafka-<version>/libs/*" tools/kafka/Murmur2Vectors.java KEY...
// (the classpath needs kafka-clients-<version>.jar and, for Utils' logger, slf4j-api) prints one
// line per key: key<TAB>Utils.murmur2(key as UTF-8)<TAB>Utils.toPositive(murmur2) % 12,
// the partition Kafka's built-in partitioner gives that key on a 12-partition topic. Keys must hold
// no tab or newline. The JVM decodes arguments with the locale's charset: run it under a UTF-8 locale
// (LC_ALL=C.UTF-8) when keys are not ASCII.
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.utils.Utils;

public class Murmur2Vectors {
  private static final int PARTITIONS = 12;

  public static void main(String[] args) {
    PrintStream out =
        new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
    for (String key : args) {
      int hash = Utils.murmur2(key.getBytes(StandardCharsets.UTF_8));
      out.println(key + "\t" + hash + "\t" + Utils.toPositive(hash) % PARTITIONS);
    }
    out.flush();
  }
}
