import * as pulumi from "@pulumi/pulumi";
import { Delivery } from "../delivery";
import { PostgresDatabase } from "../data/postgres";

/**
 * The components two projects each build a part of: the data project PostgreSQL's database and the
 * cluster project its operator; the app project the services and the cluster project their
 * controllers. The one list the program's alias, the migration's model, its tests and the
 * real-engine lane read.
 */
export const SHARED_COMPONENTS = [
  { component: Delivery, type: Delivery.TYPE, name: "delivery" },
  { component: PostgresDatabase, type: PostgresDatabase.TYPE, name: "postgres" },
] as const;

/** Whether `resource` is one of the shared components. */
export function isSharedComponent(resource: pulumi.Resource | undefined): boolean {
  return SHARED_COMPONENTS.some(({ component }) => resource instanceof component);
}

/** A regular expression's source matching `text` literally. */
export function literally(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** A source matching any shared component's `type::name`, as a URN ends. */
export const SHARED_COMPONENT_URN_TAIL = `(${SHARED_COMPONENTS.map((c) => literally(`${c.type}::${c.name}`)).join("|")})`;

/** A source matching any shared component's type, as it appears in a descendant's URN. */
export const SHARED_COMPONENT_TYPE = `(${SHARED_COMPONENTS.map((c) => literally(c.type)).join("|")})`;
