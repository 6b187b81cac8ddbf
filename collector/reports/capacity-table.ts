// Peak DENSE FP16/BF16 tensor throughput per GPU model, to state a fleet's installed and used
// PFLOPS the way operators do. Every figure is dense (NVIDIA datasheets often headline the 2:4
// sparse figure, twice as large: it is halved here) and, where the product distinguishes, with
// FP32 accumulate, the mode training uses (GeForce cards run it at half the FP16-accumulate rate).
// "Derived" rows have no published figure for that exact SKU: SMs x tensor FLOP/clock/SM x boost
// clock, with the per-SM rate taken from the architecture whitepaper's table for a sibling SKU.

export interface CapacityEntry {
  /** Our name for the model (one row per compute configuration). */
  model: string;
  /** Matched against the nvidia-smi product name, normalised (lowercase, runs of space/-/_ as one space). */
  pattern: RegExp;
  /** Peak dense FP16/BF16 tensor TFLOPS per GPU; 0 for GPUs without tensor cores. */
  denseFp16Tflops: number;
  /** NVIDIA document (title, year) the figure comes from. */
  source: string;
  note?: string;
}

// Order matters: the first match wins, so specific names (SUPER, PCIe, NVL) come before generic ones.
export const CAPACITY_TABLE: readonly CapacityEntry[] = [
  {
    model: "B200",
    pattern: /\bb200\b/,
    denseFp16Tflops: 2250,
    source: "NVIDIA HGX B200 datasheet (2024)",
    note: "4.5 PFLOPS sparse per GPU, halved",
  },
  {
    model: "H200 NVL",
    pattern: /\bh200 nvl\b/,
    denseFp16Tflops: 835.5,
    source: "NVIDIA H200 Tensor Core GPU datasheet (2024)",
    note: "1,671 TFLOPS sparse, halved",
  },
  {
    model: "H200",
    pattern: /\bh200\b/,
    denseFp16Tflops: 989.4,
    source: "NVIDIA H200 Tensor Core GPU datasheet (2024)",
    note: "1,979 TFLOPS sparse, halved (SXM)",
  },
  {
    model: "H100 NVL",
    pattern: /\bh100 nvl\b/,
    denseFp16Tflops: 835.5,
    source: "NVIDIA H100 Tensor Core GPU datasheet (2023)",
    note: "1,671 TFLOPS sparse per GPU, halved",
  },
  {
    model: "H100 PCIe",
    pattern: /\bh100 pcie\b/,
    denseFp16Tflops: 756,
    source: "NVIDIA H100 Tensor Core GPU datasheet (2023)",
    note: "1,513 TFLOPS sparse, halved",
  },
  {
    model: "H100 SXM",
    pattern: /\bh100\b/,
    denseFp16Tflops: 989.4,
    source: "NVIDIA H100 Tensor Core GPU Architecture whitepaper (2022); H100 datasheet (2023)",
    note: "1,979 TFLOPS sparse, halved; 'NVIDIA H100 80GB HBM3' is the SXM5 board",
  },
  {
    model: "A100",
    pattern: /\ba100\b/,
    denseFp16Tflops: 312,
    source: "NVIDIA A100 Tensor Core GPU datasheet (2021)",
    note: "624 TFLOPS sparse; SXM and PCIe alike",
  },
  {
    model: "L40S",
    pattern: /\bl40s\b/,
    denseFp16Tflops: 362.05,
    source: "NVIDIA L40S datasheet (2023)",
    note: "733 TFLOPS sparse",
  },
  {
    model: "L40",
    pattern: /\bl40\b/,
    denseFp16Tflops: 181.05,
    source: "NVIDIA L40 datasheet (2022)",
    note: "362.1 TFLOPS sparse",
  },
  {
    model: "L4",
    pattern: /\bl4\b/,
    denseFp16Tflops: 121,
    source: "NVIDIA L4 Tensor Core GPU datasheet (2023)",
    note: "242 TFLOPS sparse, halved",
  },
  {
    model: "A10G",
    pattern: /\ba10g\b/,
    denseFp16Tflops: 70,
    source:
      "Derived: NVIDIA Ampere GA102 GPU Architecture whitepaper (2021) per-SM rate; AWS EC2 G5 (A10G) specifications",
    note: "approximate: NVIDIA publishes no A10G datasheet; 80 SMs x 512 FLOP/clk (FP32 accumulate at half rate) x 1.71 GHz",
  },
  {
    model: "A10",
    pattern: /\ba10\b/,
    denseFp16Tflops: 125,
    source: "NVIDIA A10 Tensor Core GPU datasheet (2021)",
    note: "250 TFLOPS sparse",
  },
  {
    model: "T4",
    pattern: /\bt4\b/,
    denseFp16Tflops: 65,
    source: "NVIDIA T4 Tensor Core GPU datasheet (2019)",
    note: "FP16/FP32 mixed precision; Turing has no sparsity",
  },
  {
    model: "V100 PCIe",
    pattern: /\bv100 pcie\b/,
    denseFp16Tflops: 112,
    source: "NVIDIA V100 Tensor Core GPU datasheet (2020)",
  },
  {
    model: "V100",
    pattern: /\bv100\b/,
    denseFp16Tflops: 125,
    source: "NVIDIA V100 Tensor Core GPU datasheet (2020)",
    note: "SXM2",
  },
  {
    model: "RTX 4090",
    pattern: /\brtx 4090\b/,
    denseFp16Tflops: 165.2,
    source: "NVIDIA Ada GPU Architecture whitepaper (2023)",
    note: "FP16 tensor with FP32 accumulate, dense (330.3 with FP16 accumulate)",
  },
  {
    model: "RTX 4080 SUPER",
    pattern: /\brtx 4080 super\b/,
    denseFp16Tflops: 104.4,
    source: "Derived: NVIDIA Ada GPU Architecture whitepaper (2023) per-SM rate",
    note: "80 SMs x 512 FLOP/clk (FP32 accumulate) x 2.55 GHz boost",
  },
  {
    model: "RTX 4080",
    pattern: /\brtx 4080\b/,
    denseFp16Tflops: 97.5,
    source: "NVIDIA Ada GPU Architecture whitepaper (2023)",
    note: "FP32 accumulate, dense",
  },
  {
    model: "RTX 4000 SFF Ada",
    pattern: /\brtx 4000 sff ada\b/,
    denseFp16Tflops: 76.7,
    source: "NVIDIA RTX 4000 SFF Ada Generation datasheet (2023)",
    note: "306.8 TFLOPS FP8 sparse, quartered (FP8 to FP16, sparse to dense); professional cards accumulate FP32 at full rate",
  },
  {
    model: "RTX 3080",
    pattern: /\brtx 3080\b/,
    denseFp16Tflops: 59.5,
    source: "NVIDIA Ampere GA102 GPU Architecture whitepaper (2021)",
    note: "FP32 accumulate, dense (119 with FP16 accumulate)",
  },
  {
    model: "RTX 2080 SUPER",
    pattern: /\brtx 2080 super\b/,
    denseFp16Tflops: 44.6,
    source: "Derived: NVIDIA Turing GPU Architecture whitepaper (2018) per-SM rate",
    note: "48 SMs x 512 FLOP/clk (FP32 accumulate) x 1.815 GHz boost",
  },
  {
    model: "Quadro P400",
    pattern: /\bquadro p400\b/,
    denseFp16Tflops: 0,
    source: "NVIDIA Quadro P400 datasheet (2017)",
    note: "Pascal: no tensor cores",
  },
  {
    model: "GTX 1070 Ti",
    pattern: /\bgtx 1070 ti\b/,
    denseFp16Tflops: 0,
    source: "NVIDIA GeForce GTX 1070 Ti specifications (2017)",
    note: "Pascal: no tensor cores",
  },
];

export function normaliseProductName(name: string): string {
  return name
    .toLowerCase()
    .replace(/[\s\-_]+/g, " ")
    .trim();
}

/** The table row for an nvidia-smi product name ("NVIDIA H100 80GB HBM3" -> H100 SXM); undefined when unknown. */
export function capacityFor(productName: string): CapacityEntry | undefined {
  const name = normaliseProductName(productName);
  return CAPACITY_TABLE.find((entry) => entry.pattern.test(name));
}
