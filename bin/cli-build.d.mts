export declare function builtCliPath(root: string): string;
export declare function isBuiltCliFresh(root: string): boolean;
