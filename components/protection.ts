/**
 * Nothing is lost (DESIGN.md, principle 5): what holds data is protected from deletion and,
 * should it leave the program, retained where it runs. The two options always go together.
 */
export function keepData(protect: boolean): { protect: boolean; retainOnDelete: boolean } {
  return { protect, retainOnDelete: protect };
}
