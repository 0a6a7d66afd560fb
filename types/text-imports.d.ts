// C sources imported as text (Bun's `with { type: "text" }`), so the compiled launcher carries the shim.
declare module "*.c" {
  const text: string;
  export default text;
}
